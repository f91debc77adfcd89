package lifecycle

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// Raw-socket tests of what a client sees on the wire: the exact -ERR line
// (or none) for each protocol error, whether the connection then closes,
// and the close reason the server records. Expected texts and behaviour are
// nats-server v2.15.2's (client.go, parser.go).

// port is the client side's port, which the server records as the
// connection's port.
func (c *rawClient) port() int { return c.nc.LocalAddr().(*net.TCPAddr).Port }

// expectEOF reads until the server closes the connection and fails if
// anything else arrives first.
func (c *rawClient) expectEOF() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(c.r)
	assert.NilError(c.t, err, "want EOF")
	assert.Equal(c.t, string(rest), "", "want EOF, got more output")
}

// drain reads until the connection ends (EOF or reset) and returns what
// arrived.
func (c *rawClient) drain() []byte {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(c.r)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		assert.NilError(c.t, err, "read until the server closes")
	}
	return rest
}

// closedSnapshot waits for the connection whose client port is port to be
// recorded as closed and returns its snapshot.
func closedSnapshot(t *testing.T, s *Server, port int) conn.Snapshot {
	t.Helper()
	var snap conn.Snapshot
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		for _, c := range s.Closed() {
			if c.Port == port {
				snap = c
				return poll.Success()
			}
		}
		return poll.Continue("connection from port %d not closed yet", port)
	}, poll.WithTimeout(10*time.Second), poll.WithDelay(5*time.Millisecond))
	return snap
}

// isClosed reports whether the connection from port is recorded as closed.
func isClosed(s *Server, port int) bool {
	for _, c := range s.Closed() {
		if c.Port == port {
			return true
		}
	}
	return false
}

const quietConnect = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n"

func TestProtocolErrors(t *testing.T) {
	cases := []struct {
		name string
		opts func(*Options)
		// before runs after the server starts and before the client under
		// test connects.
		before func(t *testing.T, s *Server)
		send   string
		// want are the lines the client sees, in order, and nothing else.
		want []string
		// reason is the recorded close reason; 0: the connection stays open.
		reason conn.ClosedState
		check  func(t *testing.T, s *Server)
	}{
		{
			name:   "unknown operation",
			send:   "FOO\r\n",
			want:   []string{"-ERR 'Unknown Protocol Operation'"},
			reason: conn.ProtocolViolation,
		},
		{
			name:   "unknown operation after CONNECT",
			send:   quietConnect + "SUBX foo 1\r\n",
			want:   []string{"-ERR 'Unknown Protocol Operation'"},
			reason: conn.ProtocolViolation,
		},
		{
			name:   "blank line",
			send:   "\r\n",
			want:   []string{"-ERR 'Unknown Protocol Operation'"},
			reason: conn.ProtocolViolation,
		},
		{
			name:   "PUB body not followed by CRLF",
			send:   quietConnect + "PUB foo 2\r\nhiX\r\n",
			want:   []string{"-ERR 'Unknown Protocol Operation'"},
			reason: conn.ProtocolViolation,
		},
		{
			name:   "PUB over max_payload",
			opts:   func(o *Options) { o.MaxPayload = 16 },
			send:   quietConnect + "PUB foo 17\r\n",
			want:   []string{"-ERR 'Maximum Payload Violation'"},
			reason: conn.MaxPayloadExceeded,
		},
		{
			name:   "HPUB over max_payload",
			opts:   func(o *Options) { o.MaxPayload = 16 },
			send:   "CONNECT {\"verbose\":false,\"headers\":true}\r\nHPUB foo 12 17\r\n",
			want:   []string{"-ERR 'Maximum Payload Violation'"},
			reason: conn.MaxPayloadExceeded,
		},
		{
			name:   "control line over max_control_line",
			opts:   func(o *Options) { o.MaxControlLine = 32 },
			send:   quietConnect + "SUB " + strings.Repeat("a", 40) + " 1\r\n",
			want:   []string{"-ERR 'maximum control line exceeded'"},
			reason: conn.MaxControlLineExceeded,
		},
		{
			name:   "unterminated control line over max_control_line",
			opts:   func(o *Options) { o.MaxControlLine = 32 },
			send:   quietConnect + "PUB " + strings.Repeat("a", 100),
			want:   []string{"-ERR 'maximum control line exceeded'"},
			reason: conn.MaxControlLineExceeded,
		},
		{
			name: "invalid subject on SUB stays open",
			send: quietConnect + "SUB foo..bar 1\r\n",
			want: []string{"-ERR 'Invalid Subject'"},
		},
		{
			name: "full wildcard not last on SUB stays open",
			send: quietConnect + "SUB foo.>.bar 1\r\n",
			want: []string{"-ERR 'Invalid Subject'"},
		},
		{
			name: "pedantic PUB to a wildcard subject stays open",
			send: "CONNECT {\"verbose\":false,\"pedantic\":true}\r\nPUB foo.* 2\r\nhi\r\n",
			want: []string{"-ERR 'Invalid Publish Subject'"},
		},
		{
			name: "pedantic PUB to an invalid subject stays open",
			send: "CONNECT {\"verbose\":false,\"pedantic\":true}\r\nPUB foo..bar 2\r\nhi\r\n",
			want: []string{"-ERR 'Invalid Publish Subject'"},
		},
		{
			name: "not pedantic: PUB to a wildcard subject is accepted",
			send: quietConnect + "PUB foo.* 2\r\nhi\r\n",
		},
		{
			name: "max_connections exceeded",
			opts: func(o *Options) { o.MaxConn = 1 },
			before: func(t *testing.T, s *Server) {
				// Its INFO means the server has registered it.
				dialRaw(t, s)
			},
			want:   []string{"-ERR 'maximum connections exceeded'"},
			reason: conn.MaxConnectionsExceeded,
		},
		{
			name: "stale connection",
			opts: func(o *Options) {
				o.PingInterval = 50 * time.Millisecond
				o.PingMax = 2
			},
			send:   quietConnect,
			want:   []string{"PING", "PING", "-ERR 'Stale Connection'"},
			reason: conn.StaleConnection,
			check: func(t *testing.T, s *Server) {
				assert.Equal(t, s.Stats().StaleConnections.Load(), int64(1))
				assert.Equal(t, s.Stats().SlowConsumers.Load(), int64(0))
			},
		},
		{
			name:   "bad CONNECT JSON",
			send:   "CONNECT {bad json\r\n",
			reason: conn.ProtocolViolation,
		},
		{
			name:   "CONNECT with protocol 2",
			send:   "CONNECT {\"verbose\":false,\"protocol\":2}\r\n",
			want:   []string{"-ERR 'invalid client protocol'"},
			reason: conn.BadClientProtocolVersion,
		},
		{
			name:   "CONNECT with protocol -1",
			send:   "CONNECT {\"verbose\":false,\"protocol\":-1}\r\n",
			want:   []string{"-ERR 'invalid client protocol'"},
			reason: conn.BadClientProtocolVersion,
		},
		{
			name:   "no_responders without headers",
			send:   "CONNECT {\"verbose\":false,\"no_responders\":true}\r\n",
			want:   []string{"-ERR 'no responders requires headers support'"},
			reason: conn.NoRespondersRequiresHeaders,
		},
		{
			name:   "HPUB without headers in CONNECT",
			send:   quietConnect + "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
			reason: conn.ProtocolViolation,
		},
		{
			name:   "SUB with too few arguments",
			send:   quietConnect + "SUB foo\r\n",
			reason: conn.ProtocolViolation,
		},
		{
			name:   "PUB with too many arguments",
			send:   quietConnect + "PUB foo bar baz 2\r\n",
			reason: conn.ProtocolViolation,
		},
		{
			name:   "client sends -ERR",
			send:   quietConnect + "-ERR 'oops'\r\n",
			reason: conn.ParseError,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.opts)
			if tc.before != nil {
				tc.before(t, s)
			}
			c := dialRaw(t, s)
			if tc.send != "" {
				c.send(tc.send)
			}
			for _, want := range tc.want {
				assert.Equal(t, c.line(), want)
			}
			if tc.reason == 0 {
				c.send("PING\r\n")
				assert.Equal(t, c.line(), "PONG", "the connection must stay open")
				assert.Assert(t, !isClosed(s, c.port()))
			} else {
				c.expectEOF()
				snap := closedSnapshot(t, s, c.port())
				assert.Equal(t, snap.Reason, tc.reason, "got %s (%s)", snap.Reason.Name(), snap.Reason)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

func TestProtocolClientClosed(t *testing.T) {
	s := startServer(t, nil)
	c := dialRaw(t, s)
	c.send(quietConnect + "SUB foo 1\r\nPING\r\n")
	assert.Equal(t, c.line(), "PONG")
	port := c.port()
	assert.NilError(t, c.nc.Close())
	snap := closedSnapshot(t, s, port)
	assert.Equal(t, snap.Reason, conn.ClientClosed)
	assert.Equal(t, clientSubs(s), 0, "a closed client's subscriptions are released")
}

// In verbose mode every accepted CONNECT, SUB, PUB and UNSUB is answered
// +OK; PING is answered PONG alone; an operation that fails gets its -ERR
// and no +OK. nats-server queues a PUB's +OK before delivering the message,
// so a client's own echoed message follows its +OK.
func TestProtocolVerbose(t *testing.T) {
	s := startServer(t, nil)
	c := dialRaw(t, s)
	steps := []struct {
		send string
		want []string
	}{
		{"CONNECT {\"verbose\":true,\"pedantic\":true}\r\n", []string{"+OK"}},
		{"SUB foo 1\r\n", []string{"+OK"}},
		{"PUB foo 2\r\nhi\r\n", []string{"+OK", "MSG foo 1 2", "hi"}},
		{"PUB bar 2\r\nhi\r\n", []string{"+OK"}},
		{"PING\r\n", []string{"PONG"}},
		{"SUB foo..bar 2\r\n", []string{"-ERR 'Invalid Subject'"}},
		{"PUB foo.* 2\r\nhi\r\n", []string{"-ERR 'Invalid Publish Subject'", "+OK"}},
		{"UNSUB 1\r\n", []string{"+OK"}},
		{"UNSUB 99\r\n", []string{"+OK"}},
		{"PUB foo 2\r\nhi\r\n", []string{"+OK"}},
		{"PING\r\n", []string{"PONG"}},
	}
	for _, st := range steps {
		c.send(st.send)
		for _, want := range st.want {
			assert.Equal(t, c.line(), want, "after %q", st.send)
		}
	}
}

// A client that sends no CONNECT has nats-server's defaults: verbose and
// pedantic on.
func TestProtocolDefaultsWithoutConnect(t *testing.T) {
	s := startServer(t, nil)
	c := dialRaw(t, s)
	c.send("SUB foo 1\r\n")
	assert.Equal(t, c.line(), "+OK")
	c.send("PUB foo.> 0\r\n\r\n")
	assert.Equal(t, c.line(), "-ERR 'Invalid Publish Subject'")
	assert.Equal(t, c.line(), "+OK")
	c.send("PING\r\n")
	assert.Equal(t, c.line(), "PONG")
}

// MSG and HMSG lines as nats-server writes them:
// MSG <subject> <sid> [reply] <size> and
// HMSG <subject> <sid> [reply] <header size> <total size>.
func TestProtocolMessageFormats(t *testing.T) {
	s := startServer(t, nil)
	sub := dialRaw(t, s)
	sub.send("CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB foo 1\r\nSUB foo q 2\r\nPING\r\n")
	assert.Equal(t, sub.line(), "PONG")
	pub := dialRaw(t, s)
	pub.send("CONNECT {\"verbose\":false,\"headers\":true}\r\nPING\r\n")
	assert.Equal(t, pub.line(), "PONG")

	cases := []struct {
		name string
		send string
		want []string // for each of the two subscriptions (sid 1, then 2)
	}{
		{"PUB", "PUB foo 5\r\nhello\r\n", []string{"MSG foo %s 5", "hello"}},
		{"PUB with reply", "PUB foo rep.ly 5\r\nhello\r\n", []string{"MSG foo %s rep.ly 5", "hello"}},
		{"empty PUB", "PUB foo 0\r\n\r\n", []string{"MSG foo %s 0", ""}},
		{"HPUB", "HPUB foo 12 17\r\nNATS/1.0\r\n\r\nhello\r\n", []string{"HMSG foo %s 12 17", "NATS/1.0", "", "hello"}},
		{"HPUB with reply", "HPUB foo rep.ly 12 17\r\nNATS/1.0\r\n\r\nhello\r\n", []string{"HMSG foo %s rep.ly 12 17", "NATS/1.0", "", "hello"}},
		{"HPUB headers only", "HPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n", []string{"HMSG foo %s 12 12", "NATS/1.0", "", ""}},
		// An HPUB whose header is empty carries no header: nats-server
		// delivers it as a MSG (client.go msgHeader: hasHeader is hdr > 0).
		{"HPUB with empty header", "HPUB foo 0 5\r\nhello\r\n", []string{"MSG foo %s 5", "hello"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub.send(tc.send + "PING\r\n")
			assert.Equal(t, pub.line(), "PONG")
			// The plain subscription and the queue subscription (the only
			// member of its group) each get the message; their order on
			// the wire is not specified.
			got := map[string][]string{}
			for range 2 {
				head := sub.line()
				f := strings.Fields(head)
				assert.Assert(t, len(f) >= 3, head)
				lines := []string{strings.Replace(head, " "+f[2]+" ", " %s ", 1)}
				for range len(tc.want) - 1 {
					lines = append(lines, sub.line())
				}
				got[f[2]] = lines
			}
			assert.DeepEqual(t, got, map[string][]string{"1": tc.want, "2": tc.want})
		})
	}
}

// The no-responders status: a request (PUB with a reply subject) that
// reaches no subscriber is answered, when the client asked for it, with
// HMSG <reply> <sid> <n> <n> and the header "NATS/1.0 503" plus
// Nats-Subject, on the client's own subscription matching the reply.
func TestProtocolNoResponders(t *testing.T) {
	s := startServer(t, nil)
	c := dialRaw(t, s)
	c.send("CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\nSUB _INBOX.abc.* 9\r\n")

	c.send("PUB nobody _INBOX.abc.1 2\r\nhi\r\nPING\r\n")
	// 32 bytes of header plus the subject, as nats-server computes it.
	assert.Equal(t, c.line(), "HMSG _INBOX.abc.1 9 38 38")
	assert.Equal(t, c.line(), "NATS/1.0 503")
	assert.Equal(t, c.line(), "Nats-Subject: nobody")
	assert.Equal(t, c.line(), "")
	assert.Equal(t, c.line(), "")
	assert.Equal(t, c.line(), "PONG")

	// No status when nobody of the client's own subscriptions matches the
	// reply, nor for a plain PUB without reply.
	c.send("PUB nobody _INBOX.other 2\r\nhi\r\nPUB nobody 2\r\nhi\r\nPING\r\n")
	assert.Equal(t, c.line(), "PONG")

	// No status when somebody listens.
	other := dialRaw(t, s)
	other.send(quietConnect + "SUB somebody 1\r\nPING\r\n")
	assert.Equal(t, other.line(), "PONG")
	c.send("PUB somebody _INBOX.abc.2 2\r\nhi\r\nPING\r\n")
	assert.Equal(t, c.line(), "PONG")
	assert.Equal(t, other.line(), "MSG somebody 1 _INBOX.abc.2 2")

	// No status for a client that did not ask for it.
	plain := dialRaw(t, s)
	plain.send("CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB _INBOX.p 1\r\nPUB nobody _INBOX.p 2\r\nhi\r\nPING\r\n")
	assert.Equal(t, plain.line(), "PONG")
}

// flood publishes batches of 1 KiB messages on subject until stop reports
// true, and returns how many it published; it fails after limit messages.
// After each batch (64 KiB) it flushes the publisher and then every reader,
// so a reader that keeps up never has more than one batch pending in the
// server, which the socket buffers absorb at once.
func flood(t *testing.T, pub *nats.Conn, subject string, limit int, stop func() bool, readers ...*nats.Conn) int {
	t.Helper()
	payload := make([]byte, 1024)
	sent := 0
	for !stop() {
		assert.Assert(t, sent < limit, "still not stopped after %d messages", sent)
		for range 64 {
			assert.NilError(t, pub.Publish(subject, payload))
			sent++
		}
		flush(t, pub)
		flush(t, readers...)
	}
	return sent
}

// slowSubscriber subscribes a raw client to subject and makes it read
// nothing more, so that the socket buffers fill and the server's writes to
// it stall.
func slowSubscriber(t *testing.T, s *Server, subject string) *rawClient {
	t.Helper()
	c := dialRaw(t, s)
	c.send(quietConnect + "SUB " + subject + " 1\r\nPING\r\n")
	assert.Equal(t, c.line(), "PONG")
	return c
}

func TestProtocolSlowConsumer(t *testing.T) {
	cases := []struct {
		name   string
		opts   func(*Options)
		reason conn.ClosedState
	}{
		{
			name: "max_pending",
			opts: func(o *Options) {
				o.MaxPending = 1024 * 1024
				o.MaxPayload = 4096
			},
			reason: conn.SlowConsumerPendingBytes,
		},
		{
			name: "write_deadline",
			opts: func(o *Options) {
				o.WriteDeadline = 100 * time.Millisecond
			},
			reason: conn.SlowConsumerWriteDeadline,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.opts)
			slow := slowSubscriber(t, s, "flood")
			goodc := connect(t, s)
			good, err := goodc.SubscribeSync("flood")
			assert.NilError(t, err)
			flush(t, goodc)
			pub := connect(t, s)

			sent := flood(t, pub, "flood", 200_000, func() bool {
				return s.Stats().SlowConsumers.Load() > 0
			}, goodc)
			snap := closedSnapshot(t, s, slow.port())
			assert.Equal(t, snap.Reason, tc.reason, "got %s (%s)", snap.Reason.Name(), snap.Reason)
			assert.Equal(t, s.Stats().SlowConsumers.Load(), int64(1))

			// The other clients are unaffected: the publisher goes on and
			// the second subscriber has every message.
			for range 1000 {
				assert.NilError(t, pub.Publish("flood", []byte("after")))
				sent++
			}
			flush(t, pub, goodc)
			assert.Equal(t, pending(t, good), sent)
			assert.Assert(t, !goodc.IsClosed() && !pub.IsClosed())

			// A slow consumer is closed without -ERR: what it can still read
			// is messages only, then the end.
			start := time.Now()
			rest := slow.drain()
			t.Logf("slow consumer: %d messages sent, %d bytes left to read, read in %v", sent, len(rest), time.Since(start))
			assert.Assert(t, !bytes.Contains(rest, []byte("-ERR")), "a slow consumer gets no -ERR")
		})
	}
}
