package conn

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// writerOf returns the state of c's writer role.
func writerOf(c *Conn) writerState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wstate
}

var writerCfg = &Config{MaxControlLine: 4096, MaxPayload: 1 << 20, MaxPending: 64 << 20, WriteDeadline: 10 * time.Second, PingInterval: time.Hour, PingMax: 2}

// readMsgs reads n messages "MSG s.0 0 <len>" with payloads "<i>:" padded
// with 'x', and checks that they come in order, whole.
func readMsgs(t *testing.T, r *bufio.Reader, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		line, err := r.ReadString('\n')
		assert.NilError(t, err, "message %d", i)
		var size int
		_, err = fmt.Sscanf(line, "MSG s.0 0 %d\r\n", &size)
		assert.NilError(t, err, "message %d: %q", i, line)
		payload := make([]byte, size+2)
		_, err = io.ReadFull(r, payload)
		assert.NilError(t, err, "message %d", i)
		assert.Assert(t, strings.HasPrefix(string(payload), fmt.Sprintf("%d:", i)), "message %d: %.20q", i, payload)
		assert.Equal(t, string(payload[size:]), "\r\n", "message %d", i)
	}
}

// subscribed has the client of a running connection subscribe to s.0 with
// sid 0 and returns the subscription, once the server has answered the
// PING that follows.
func subscribed(t *testing.T, c *Conn, client io.Writer, r *bufio.Reader) *Subscription {
	t.Helper()
	_, err := client.Write([]byte("SUB s.0 0\r\nPING\r\n"))
	assert.NilError(t, err)
	line, err := r.ReadString('\n')
	assert.NilError(t, err)
	assert.Equal(t, line, "PONG\r\n")
	return c.sh.Index.Match("s.0").Plain[0]
}

// payloadOf returns message i's payload of size bytes.
func payloadOf(i, size int) []byte {
	p := []byte(fmt.Sprintf("%d:", i))
	return append(p, strings.Repeat("x", size-len(p))...)
}

// Small output is written by whoever queued it: a connection that only
// gets a PONG and a message now and then never has a writer goroutine.
func TestSmallOutputNeedsNoWriter(t *testing.T) {
	c, client, r := tcpConn(t, writerCfg)
	assert.Equal(t, writerOf(c), writerNone, "INFO and PONG started a writer")
	s := subscribed(t, c, client, r)
	pub, _ := newTestConn(t)
	for i := range 10 {
		assert.Assert(t, pub.deliver(s, []byte("s.0"), nil, -1, payloadOf(i, 100)))
		pub.flushPending()
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		readMsgs(t, r, i, 1)
	}
	assert.Equal(t, writerOf(c), writerNone, "a message started a writer")
}

// A receiver that stops reading fills its socket: the inline write the
// socket takes only in part leaves the rest to a writer goroutine, started
// then, and the receiver gets every message once, in order, when it reads
// again.
func TestBacklogStartsTheWriter(t *testing.T) {
	c, client, r := tcpConn(t, writerCfg)
	s := subscribed(t, c, client, r)
	pub, _ := newTestConn(t)
	const size, batch, most = 1000, 7, 20000 // batches of 7 KB: written inline while the socket takes them
	n := 0
	for n < most && writerOf(c) == writerNone {
		for range batch {
			assert.Assert(t, pub.deliver(s, []byte("s.0"), nil, -1, payloadOf(n, size)))
			n++
		}
		pub.flushPending()
	}
	assert.Equal(t, writerOf(c), writerRunning, "no writer after %d messages", n)
	// A few more batches go through the writer.
	for range 10 * batch {
		assert.Assert(t, pub.deliver(s, []byte("s.0"), nil, -1, payloadOf(n, size)))
		n++
	}
	pub.flushPending()
	client.SetReadDeadline(time.Now().Add(30 * time.Second))
	readMsgs(t, r, 0, n)
}

// A connection closed without a writer goroutine ends its writer role at
// once when there is nothing to flush, and starts a writer for the final
// flush when there is; either way the client reads everything, then EOF.
func TestCloseWithoutWriter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		queued     int // messages queued and not flushed before the close
		wantWriter writerState
	}{
		{"nothing to flush", 0, writerDone},
		{"output to flush", 3, writerRunning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, client, r := tcpConn(t, writerCfg)
			s := subscribed(t, c, client, r)
			pub, _ := newTestConn(t)
			for i := range tc.queued {
				assert.Assert(t, pub.deliver(s, []byte("s.0"), nil, -1, payloadOf(i, 100)))
			}
			clear(pub.pcd) // not flushed: the close's final flush writes them
			c.Close(ServerShutdown)
			poll.WaitOn(t, func(poll.LogT) poll.Result {
				if c.live.Load() <= 1 {
					return poll.Success()
				}
				return poll.Continue("waiting for the writer role to end")
			}, poll.WithTimeout(10*time.Second))
			assert.Equal(t, writerOf(c), tc.wantWriter)
			client.SetReadDeadline(time.Now().Add(10 * time.Second))
			readMsgs(t, r, 0, tc.queued)
			_, err := r.ReadByte()
			assert.Equal(t, err, io.EOF)
			poll.WaitOn(t, func(poll.LogT) poll.Result {
				if c.State() == Closed {
					return poll.Success()
				}
				return poll.Continue("waiting for closed")
			}, poll.WithTimeout(10*time.Second))
			assert.Equal(t, c.Reason(), ServerShutdown)
		})
	}
}
