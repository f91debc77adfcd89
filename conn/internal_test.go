package conn

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// readLine reads one protocol line without its CRLF.
func readLine(t *testing.T, r interface{ ReadString(byte) (string, error) }) string {
	t.Helper()
	l, err := r.ReadString('\n')
	assert.NilError(t, err)
	return strings.TrimRight(l, "\r\n")
}

// TestInternalSubscriptionAndPublish: a client's request reaches an
// internal subscription (headers apart from payload, counted as delivered
// so no 503 comes back), the internal client's answer reaches the client,
// and an account is interested in a subject only once someone other than
// the server listens.
func TestInternalSubscriptionAndPublish(t *testing.T) {
	c, client, r := tcpConn(t, &Config{MaxControlLine: 4096, MaxPayload: 1 << 20, MaxPending: 1 << 20})
	acc := c.sh.accounts().Global()
	type got struct{ subj, reply, hdr, payload string }
	recv := make(chan got, 1)
	_, err := acc.SubscribeInternal("req.*", "1", func(subj, reply, hdr, payload []byte) {
		recv <- got{string(subj), string(reply), string(hdr), string(payload)}
	})
	assert.NilError(t, err)
	assert.Assert(t, !acc.Interested("req.x"), "only the server listens")

	hdr := "NATS/1.0\r\nA: b\r\n\r\n"
	_, err = client.Write([]byte("CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\nSUB _INBOX.1 9\r\nHPUB req.x _INBOX.1 " +
		itoa(len(hdr)) + " " + itoa(len(hdr)+2) + "\r\n" + hdr + "hi\r\nPING\r\n"))
	assert.NilError(t, err)
	assert.Equal(t, readLine(t, r), "PONG", "no 503 no-responders status before the PONG")
	assert.Equal(t, <-recv, got{"req.x", "_INBOX.1", hdr, "hi"})
	assert.Assert(t, acc.Interested("_INBOX.1"))

	in := NewInternal(c.sh, &Config{}, acc)
	assert.Equal(t, in.Publish(acc, "_INBOX.1", "", nil, []byte("answer")), 1)
	assert.Equal(t, readLine(t, r), "MSG _INBOX.1 9 6")
	assert.Equal(t, readLine(t, r), "answer")
	assert.Equal(t, in.Publish(acc, "_INBOX.1", "", []byte(hdr), []byte("x")), 1)
	assert.Equal(t, readLine(t, r), "HMSG _INBOX.1 9 "+itoa(len(hdr))+" "+itoa(len(hdr)+1))
	assert.Equal(t, in.Publish(acc, "nobody", "", nil, []byte("x")), 0)
}
