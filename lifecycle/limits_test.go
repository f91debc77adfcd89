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
