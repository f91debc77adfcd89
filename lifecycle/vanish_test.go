package lifecycle

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/internal/soak"
	"go.uber.org/goleak"
	"gotest.tools/v3/assert"
)

// TestVanishingClients: clients that reset their TCP connection (SO_LINGER
// 0, then close: an RST, no FIN) in the middle of something. The server
// records the reason the facts sheet gives (ReadError when its reader sees
// the reset, WriteError when its writer does; the first reason stays when
// one was recorded before), turns the final flush off, is not held up by
// the dead peer, and leaks no goroutine.
func TestVanishingClients(t *testing.T) {
	cases := []struct {
		name string
		opts func(*Options)
		// run makes one client vanish at its moment and returns the
		// server's connection for it; it may leave the server stopping.
		run  func(t *testing.T, s *Server) *conn.Conn
		want []conn.ClosedState // any of these
	}{
		{
			name: "mid-message: half a PUB payload",
			run: func(t *testing.T, s *Server) *conn.Conn {
				sub := slowSubscriber(t, s, "half")
				c := dialRaw(t, s)
				c.send(quietConnect + "PING\r\n")
				assert.Equal(t, c.line(), "PONG")
				sc := serverConn(t, s, c)
				c.send("PUB half 100\r\n" + strings.Repeat("x", 50))
				reset(t, c)
				waitConnState(t, sc, conn.Closed)
				// The half message was never delivered.
				sub.send("PING\r\n")
				assert.Equal(t, sub.line(), "PONG")
				return sc
			},
			want: []conn.ClosedState{conn.ReadError},
		},
		{
			name: "mid-flush: server writing a backlog to a live client",
			run: func(t *testing.T, s *Server) *conn.Conn {
				c := stuckSubscriber(t, s, "backlog")
				sc := serverConn(t, s, c)
				publishN(t, connect(t, s), "backlog", 96, 64*1024) // more than the socket buffers
				buf := make([]byte, 32*1024)
				_, err := io.ReadFull(c.nc, buf) // the writer is under way
				assert.NilError(t, err)
				reset(t, c)
				waitConnState(t, sc, conn.Closed)
				return sc
			},
			// Linux reports a reset once: to the reader (ReadError) or to
			// the writer (WriteError). When the writer's failed write takes
			// it, the reader's next read is a plain EOF, and if the reader
			// records that before the writer records its error, the reason
			// is ClientClosed (nats-server's read and write loops race the
			// same way); the write error still turns the flush off.
			want: []conn.ClosedState{conn.ReadError, conn.WriteError, conn.ClientClosed},
		},
		{
			name: "mid-drain: after the lame-duck INFO, before its close",
			opts: func(o *Options) {
				o.LameDuckDuration = time.Hour
				o.LameDuckGracePeriod = 30 * time.Minute
			},
			run: func(t *testing.T, s *Server) *conn.Conn {
				c := dialRaw(t, s)
				c.send(soak.Quiet + "SUB x 1\r\nPING\r\n") // protocol 1: gets the lame-duck INFO
				assert.Equal(t, c.line(), "PONG")
				sc := serverConn(t, s, c)
				assert.NilError(t, s.EnterLameDuckCause("test"))
				line := c.line()
				assert.Assert(t, strings.Contains(line, `"ldm":true`), line)
				reset(t, c)
				waitConnState(t, sc, conn.Closed)
				assert.NilError(t, s.Shutdown())
				return sc
			},
			want: []conn.ClosedState{conn.ReadError},
		},
		{
			name: "mid-flush during shutdown",
			opts: func(o *Options) {
				o.WriteDeadline = time.Minute
				o.ShutdownTimeout = time.Minute
			},
			run: func(t *testing.T, s *Server) *conn.Conn {
				c := stuckSubscriber(t, s, "backlog")
				sc := serverConn(t, s, c)
				publishN(t, connect(t, s), "backlog", 96, 64*1024)
				stopped := timed(func() { s.Shutdown() })
				waitConnState(t, sc, conn.Closing)
				buf := make([]byte, 32*1024)
				_, err := io.ReadFull(c.nc, buf) // the final flush is under way
				assert.NilError(t, err)
				reset(t, c)
				// The reset ends the flush at once: nothing waits for the
				// write deadline or the shutdown deadline.
				took := within(t, stopped, 10*time.Second, "shutdown")
				t.Logf("shutdown took %v", took)
				return sc
			},
			want: []conn.ClosedState{conn.ServerShutdown},
		},
		{
			name: "mid-flush during the lame-duck close",
			opts: func(o *Options) {
				o.WriteDeadline = time.Minute
				o.ShutdownTimeout = time.Minute
				o.LameDuckDuration = 200 * time.Millisecond
				o.LameDuckGracePeriod = 100 * time.Millisecond
			},
			run: func(t *testing.T, s *Server) *conn.Conn {
				c := stuckSubscriber(t, s, "backlog")
				sc := serverConn(t, s, c)
				pub := connect(t, s)
				publishN(t, pub, "backlog", 96, 64*1024)
				pub.Close()
				stopped := timed(s.WaitForShutdown)
				assert.NilError(t, s.EnterLameDuckCause("test"))
				waitConnState(t, sc, conn.Closing)
				buf := make([]byte, 32*1024)
				_, err := io.ReadFull(c.nc, buf)
				assert.NilError(t, err)
				reset(t, c)
				within(t, stopped, 10*time.Second, "lame duck")
				return sc
			},
			want: []conn.ClosedState{conn.ServerShutdown},
		},
	}
	var notes []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, leaks) }) // after the server's own cleanup
			s := startServer(t, tc.opts)
			sc := tc.run(t, s)
			assert.Equal(t, sc.State(), conn.Closed)
			got := sc.Reason()
			ok := false
			for _, w := range tc.want {
				ok = ok || got == w
			}
			assert.Assert(t, ok, "reason %s, want one of %v", got.Name(), tc.want)
			t.Logf("reason %s", got.Name())
			notes = append(notes, tc.name+": "+got.Name())
			assert.Assert(t, sc.SkipFlush(), "the final flush to a vanished client was not turned off")
			assert.Equal(t, s.Stats().SlowConsumers.Load(), int64(0))
			assert.NilError(t, s.Shutdown())
		})
	}
	assert.NilError(t, soak.Record(soak.Figures{
		Suite: "vanishing clients", Mode: "in-process", Connections: len(cases),
		GoroutinesBefore: -1, GoroutinesPeak: -1, GoroutinesAfter: -1, FDsBefore: -1, FDsPeak: -1, FDsAfter: -1,
		Notes: "TCP reset (SO_LINGER 0) by the client; reasons recorded: " + strings.Join(notes, "; ") + "; goroutines checked with goleak per case",
	}))
}
