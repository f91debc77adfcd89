package lifecycle

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
)

// Raw-socket tests of the limits one client must not get around (issue 17):
// what a limit lowered by a reload does to a client connected before it.

// reloadWith reloads s with its running options changed by mod.
func reloadWith(t *testing.T, s *Server, mod func(*Options)) {
	t.Helper()
	o := s.Options()
	mod(&o)
	assert.NilError(t, s.Reload(&o, "test"))
}

// stuckReader is a raw client subscribed to subject that never reads, with
// a small receive buffer, so the server's output for it piles up.
func stuckReader(t *testing.T, s *Server, subject string) *rawClient {
	t.Helper()
	c := dialRaw(t, s)
	assert.NilError(t, c.nc.(*net.TCPConn).SetReadBuffer(4096))
	c.send(quietConnect + "SUB " + subject + " 1\r\nPING\r\n")
	assert.Equal(t, c.line(), "PONG")
	return c
}

// A limit lowered by a reload applies to a client connected before it,
// from the moment the reload is applied (nats-server does so for
// max_payload and max_control_line; natsd for every reloadable limit).
func TestReloadAppliesLimitsToConnectedClients(t *testing.T) {
	big := strings.Repeat("x", 2048)
	cases := []struct {
		name   string
		start  func(*Options)
		reload func(*Options)
		// run drives the client connected before the reload and returns
		// its client port; it waits for what the new limit does.
		run  func(t *testing.T, s *Server, c *rawClient)
		want conn.ClosedState
	}{
		{
			name:   "max_payload",
			start:  func(o *Options) { o.MaxPayload = 100 << 10 },
			reload: func(o *Options) { o.MaxPayload = 1024 },
			run: func(t *testing.T, s *Server, c *rawClient) {
				c.send(fmt.Sprintf("PUB foo %d\r\n%s\r\n", len(big), big))
				assert.Equal(t, c.line(), "-ERR 'Maximum Payload Violation'")
				c.drain() // the unread body may earn a reset
			},
			want: conn.MaxPayloadExceeded,
		},
		{
			name:   "max_control_line",
			reload: func(o *Options) { o.MaxControlLine = 64 },
			run: func(t *testing.T, s *Server, c *rawClient) {
				c.send("SUB " + strings.Repeat("s", 100) + " 1\r\n")
				assert.Equal(t, c.line(), "-ERR 'maximum control line exceeded'")
				c.expectEOF()
			},
			want: conn.MaxControlLineExceeded,
		},
		{
			// The 2-minute timer set at connect is rescheduled at the new
			// interval: the client is pinged, then closed as stale.
			name:   "ping_interval",
			reload: func(o *Options) { o.PingInterval, o.PingMax = 20*time.Millisecond, 1 },
			run: func(t *testing.T, s *Server, c *rawClient) {
				assert.Equal(t, c.line(), "PING")
				assert.Equal(t, c.line(), "-ERR 'Stale Connection'")
				c.expectEOF()
			},
			want: conn.StaleConnection,
		},
		{
			// A subscriber that does not read is cut off by the new,
			// shorter write deadline.
			name:   "write_deadline",
			start:  func(o *Options) { o.WriteDeadline = time.Hour },
			reload: func(o *Options) { o.WriteDeadline = 50 * time.Millisecond },
			run: func(t *testing.T, s *Server, c *rawClient) {
				publishBytes(t, s, "stuck", 16<<20)
			},
			want: conn.SlowConsumerWriteDeadline,
		},
		{
			// A subscriber that does not read is cut off by the new, lower
			// max_pending (the write deadline is far away).
			name:   "max_pending",
			start:  func(o *Options) { o.WriteDeadline = time.Hour },
			reload: func(o *Options) { o.MaxPending = 2 << 20 },
			run: func(t *testing.T, s *Server, c *rawClient) {
				publishBytes(t, s, "stuck", 16<<20)
			},
			want: conn.SlowConsumerPendingBytes,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.start)
			c := stuckReader(t, s, "stuck")
			reloadWith(t, s, tc.reload)
			tc.run(t, s, c)
			assert.Equal(t, closedSnapshot(t, s, c.port()).Reason, tc.want)
		})
	}
}

// publishBytes publishes total bytes on subject in 32 KiB messages from a client
// of its own, then waits for its PONG.
func publishBytes(t *testing.T, s *Server, subject string, total int) {
	t.Helper()
	p := dialRaw(t, s)
	p.send(quietConnect)
	msg := fmt.Sprintf("PUB %s %d\r\n%s\r\n", subject, 32<<10, strings.Repeat("m", 32<<10))
	batch := strings.Repeat(msg, 16)
	for sent := 0; sent < total; sent += 16 * 32 << 10 {
		p.send(batch)
	}
	p.send("PING\r\n")
	assert.Equal(t, p.lineOrEOF(), "PONG")
}

// Every byte queued for a client counts against max_pending, not only
// messages: a client that floods PING (or earns +OK or -ERR) and never
// reads its answers is closed as a slow consumer by pending bytes, as
// nats-server closes it, long before the write deadline (an hour here).
func TestRepliesCountAgainstMaxPending(t *testing.T) {
	cases := []struct {
		name, connect, op string
	}{
		{"PING answered PONG", quietConnect, "PING\r\n"},
		{"UNSUB answered +OK", "CONNECT {\"verbose\":true}\r\n", "UNSUB 99\r\n"},
		{"invalid SUB answered -ERR", quietConnect, "SUB a..b 1\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, func(o *Options) {
				o.MaxPayload, o.MaxPending, o.WriteDeadline = 64<<10, 256<<10, time.Hour
			})
			// The client keeps its default receive buffer: shrunk after
			// the handshake (SetReadBuffer), it made the flood stall in
			// TCP itself for tens of seconds under -race here, both ends
			// waiting in the kernel (apparently the server's
			// acknowledgements ride on data the client has no room for).
			c := dialRaw(t, s)
			c.send(tc.connect)
			sent := floodUntilClosed(t, c, tc.op, 256<<20)
			snap := closedSnapshot(t, s, c.port())
			assert.Equal(t, snap.Reason, conn.SlowConsumerPendingBytes, "after %d bytes sent", sent)
			assert.Equal(t, s.Stats().SlowConsumers.Load(), int64(1))
		})
	}
}

// floodUntilClosed writes op over and over, never reading, until the
// server closes the connection or limit bytes were written, and returns
// how many bytes it wrote.
func floodUntilClosed(t *testing.T, c *rawClient, op string, limit int) int {
	t.Helper()
	batch := []byte(strings.Repeat(op, (64<<10)/len(op)))
	sent := 0
	deadline := time.Now().Add(30 * time.Second)
	for sent < limit && time.Now().Before(deadline) {
		c.nc.SetWriteDeadline(deadline)
		n, err := c.nc.Write(batch)
		sent += n
		if err != nil {
			return sent
		}
	}
	t.Fatalf("the server did not close the connection after %d bytes", sent)
	return sent
}

// maxSubsTranscript drives one verbose client through max_subscriptions
// (3 here) on the server at addr and returns every line it read.
func maxSubsTranscript(t *testing.T, addr string) []string {
	t.Helper()
	c := dialRawAddr(t, addr)
	var got []string
	step := func(send string, lines int) {
		c.send(send)
		for range lines {
			got = append(got, c.line())
		}
	}
	step("CONNECT {\"verbose\":true,\"pedantic\":false}\r\n", 1)
	step("SUB a 1\r\nSUB b 2\r\nSUB c q 3\r\n", 3)
	step("SUB d 4\r\n", 1)         // over the limit
	step("SUB a 1\r\n", 1)         // a SID in use, at the limit
	step("SUB x..y 5\r\n", 1)      // invalid, at the limit
	step("SUB e q 6\r\n", 1)       // a queue subscription, at the limit
	step("UNSUB 1\r\n", 1)         // frees a place
	step("SUB x..y 5\r\n", 1)      // under the limit: the subject is checked
	step("SUB d 4\r\n", 1)         // takes the place
	step("PUB d 2\r\nhi\r\n", 3)   // the connection works
	step("SUB f 7\r\nPING\r\n", 2) // still full
	return got
}

// max_subscriptions: a SUB over the limit gets nats-server's -ERR and the
// connection stays open; the transcript is nats-server's, line for line
// (the nats-server half is skipped if it cannot be installed).
func TestMaxSubscriptions(t *testing.T) {
	want := []string{
		"+OK",
		"+OK", "+OK", "+OK",
		"-ERR 'maximum subscriptions exceeded'",
		"-ERR 'maximum subscriptions exceeded'",
		"-ERR 'maximum subscriptions exceeded'",
		"-ERR 'maximum subscriptions exceeded'",
		"+OK",
		"-ERR 'Invalid Subject'",
		"+OK",
		"+OK", "MSG d 4 2", "hi",
		"-ERR 'maximum subscriptions exceeded'", "PONG",
	}
	s := startServer(t, func(o *Options) { o.MaxSubs = 3 })
	assert.DeepEqual(t, maxSubsTranscript(t, s.Addr()), want)
	assert.Equal(t, clientSubs(s), 3)
	t.Run("nats-server", func(t *testing.T) {
		addr := startReferenceServer(t, "max_subscriptions: 3\n")
		assert.DeepEqual(t, maxSubsTranscript(t, addr), want)
	})
}

// 1,000 SUBs from a client allowed 100: 100 are made and 900 get the -ERR,
// as nats-server answers (issue 17).
func TestMaxSubscriptionsFlood(t *testing.T) {
	s := startServer(t, func(o *Options) { o.MaxSubs = 100 })
	c := dialRaw(t, s)
	var b strings.Builder
	b.WriteString(quietConnect)
	for i := range 1000 {
		fmt.Fprintf(&b, "SUB s.%d %d\r\n", i, i)
	}
	b.WriteString("PING\r\n")
	c.send(b.String())
	errs := 0
	for l := c.line(); l != "PONG"; l = c.line() {
		assert.Equal(t, l, "-ERR 'maximum subscriptions exceeded'")
		errs++
	}
	assert.Equal(t, errs, 900)
	assert.Equal(t, clientSubs(s), 100)
}

// A reload that lowers max_subscriptions refuses the next SUB of a client
// connected before it and keeps the subscriptions it has; one that raises
// it lets the client subscribe again.
func TestReloadMaxSubscriptions(t *testing.T) {
	s := startServer(t, nil)
	c := dialRaw(t, s)
	c.send(quietConnect + "SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n")
	assert.Equal(t, c.line(), "PONG")
	reloadWith(t, s, func(o *Options) { o.MaxSubs = 2 })
	c.send("SUB d 4\r\nPING\r\n")
	assert.Equal(t, c.line(), "-ERR 'maximum subscriptions exceeded'")
	assert.Equal(t, c.line(), "PONG")
	assert.Equal(t, clientSubs(s), 3)
	reloadWith(t, s, func(o *Options) { o.MaxSubs = 0 })
	c.send("SUB d 4\r\nPING\r\n")
	assert.Equal(t, c.line(), "PONG")
	assert.Equal(t, clientSubs(s), 4)
}
