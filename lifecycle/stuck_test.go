package lifecycle

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/internal/soak"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"gotest.tools/v3/assert"
)

// TestStuckClients: subscribers that never read, with output queued for
// them, while the server shuts down or drains in lame duck. Per the facts sheet, the first reason
// recorded is the one reported, and a write error or deadline during the
// final flush only turns the flush off; a stuck client that goes over
// max_pending is a slow consumer (Pending Bytes). Either way the stuck
// clients cannot hold the server past its deadline, and a healthy
// subscriber beside them still gets every message. A write that hits
// write_deadline counts the client as a slow consumer and logs "Slow
// Consumer Detected", as nats-server does, even when the client was being
// closed for another reason.
//
// It runs on the fake clock of a synctest bubble over an in-memory network
// (a pipe has no buffer: a client that does not read blocks the server's
// first write to it), so every deadline passes at once and exactly; the
// bounds below are fake time. synctest also fails the case if any goroutine
// of it is left over.
func TestStuckClients(t *testing.T) {
	const (
		msgSize    = 64 * 1024
		floodLimit = 2000
	)
	stuckN := soak.Size(1, 50)
	cases := []struct {
		name string
		opts func(*Options)
		// backlog is how many messages are queued for every subscriber
		// before the server is asked to stop; with flood, more are
		// published during the lame-duck grace period until the stuck
		// clients are slow consumers.
		backlog  int
		flood    bool
		lameDuck bool
		want     conn.ClosedState
		// forced: the shutdown deadline force-closes the stuck clients
		// (and says so in the log).
		forced bool
		// deadline: the server must reach Stopped within this of the
		// request.
		deadline time.Duration
		// slow: the stuck clients' writes hit write_deadline, so each is
		// counted and logged as a slow consumer.
		slow bool
	}{
		{
			name: "shutdown, flush hits write_deadline",
			opts: func(o *Options) {
				o.WriteDeadline = 3 * time.Second
				o.ShutdownTimeout = 10 * time.Second
			},
			// write_deadline (plus scheduling slack), well before
			// shutdown_timeout.
			backlog: 96, want: conn.ServerShutdown, deadline: 3 * time.Second, slow: true,
		},
		{
			name: "shutdown, shutdown_timeout before write_deadline",
			opts: func(o *Options) {
				o.WriteDeadline = time.Minute
				o.ShutdownTimeout = 500 * time.Millisecond
			},
			backlog: 96, want: conn.ServerShutdown, forced: true, deadline: 500 * time.Millisecond,
		},
		{
			name: "lame duck, drain close hits write_deadline",
			opts: func(o *Options) {
				o.WriteDeadline = 3 * time.Second
				o.ShutdownTimeout = 10 * time.Second
				o.LameDuckDuration = time.Second
				o.LameDuckGracePeriod = 200 * time.Millisecond
			},
			// lame_duck_duration + write_deadline.
			backlog: 96, lameDuck: true, want: conn.ServerShutdown, deadline: 4 * time.Second, slow: true,
		},
		{
			name: "lame duck, over max_pending in the grace period",
			opts: func(o *Options) {
				o.MaxPending = 1 << 20
				o.MaxPayload = msgSize
				o.WriteDeadline = time.Minute
				o.ShutdownTimeout = 5 * time.Second
				o.LameDuckDuration = 1500 * time.Millisecond
				o.LameDuckGracePeriod = time.Second
			},
			backlog: 4, flood: true, lameDuck: true, want: conn.SlowConsumerPendingBytes, deadline: 1500 * time.Millisecond,
		},
	}
	var (
		notes   []string
		slowest time.Duration
		rss     int64
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				mn := newMemNet()
				log := quietLog(t)
				hook := logtest.NewLocal(log)
				s := startMemServer(t, mn, Deps{Log: log}, tc.opts)
				stuck := make([]*conn.Conn, stuckN)
				for i := range stuck {
					stuck[i] = serverConn(t, s, subscribeStuck(t, dialMemRaw(t, mn, s), "stuck"))
				}
				closed := make(chan struct{})
				good := connectMem(t, mn, s, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
				got := make(chan *nats.Msg, tc.backlog+floodLimit)
				_, err := good.ChanSubscribe("stuck", got)
				assert.NilError(t, err)
				assert.NilError(t, good.Flush())
				// A raw publisher: nats.go holds its lock while it writes, and
				// a goroutine waiting on a lock is not durably blocked, so a
				// publisher stalled by the server (over 3/4 of max_pending)
				// would keep the bubble's clock from moving.
				pub := dialMemRaw(t, mn, s)
				pub.send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")

				began := time.Now()
				pub.publishN("stuck", tc.backlog, msgSize)
				queued := time.Since(began)
				for i, c := range stuck {
					assert.Equal(t, c.State(), conn.Open, "stuck client %d closed (%s) before the test asked the server to stop: the backlog took longer than write_deadline", i, c.Reason().Name())
				}
				var (
					stopped <-chan time.Duration
					sent    int
				)
				if tc.lameDuck {
					stopped = timed(s.WaitForShutdown)
					assert.NilError(t, s.EnterLameDuckCause("test"))
					for tc.flood && s.Stats().SlowConsumers.Load() < int64(stuckN) {
						assert.Assert(t, sent < floodLimit, "stuck clients not slow consumers after %d more messages", sent)
						pub.publishN("stuck", 4, msgSize)
						sent += 4
					}
				} else {
					stopped = timed(func() { s.ShutdownCause("test") })
				}
				took := within(t, stopped, tc.deadline+5*time.Second, "stopping")
				assert.Assert(t, took <= tc.deadline, "stopping took %v, want at most %v", took, tc.deadline)
				<-closed
				assert.Equal(t, len(got), tc.backlog+sent, "the healthy subscriber lost messages")

				for i, c := range stuck {
					assert.Equal(t, c.State(), conn.Closed)
					assert.Equal(t, c.Reason(), tc.want, "stuck client %d: got %s", i, c.Reason().Name())
					assert.Assert(t, c.SkipFlush(), "stuck client %d: its final flush was not turned off", i)
				}
				wantSlow := 0
				if tc.slow || tc.want.IsSlowConsumer() {
					wantSlow = stuckN
				}
				assert.Equal(t, s.Stats().SlowConsumers.Load(), int64(wantSlow))
				var warned, detected []string
				for _, e := range hook.AllEntries() {
					if e.Level <= logrus.WarnLevel {
						warned = append(warned, e.Message)
					}
					if strings.Contains(e.Message, " - Slow Consumer Detected: ") {
						detected = append(detected, e.Message)
					}
				}
				assert.Equal(t, len(detected), wantSlow, "%s", strings.Join(detected, "\n"))
				for _, d := range detected {
					want := "WriteDeadline of " + s.Options().WriteDeadline.String() + " exceeded with "
					if tc.want == conn.SlowConsumerPendingBytes {
						want = fmt.Sprintf("MaxPending of %d Exceeded", s.Options().MaxPending)
					}
					assert.Assert(t, strings.Contains(d, want), "%q lacks %q", d, want)
				}
				if tc.forced {
					assert.DeepEqual(t, warned, []string{fmt.Sprintf("Shutdown timeout (%v) reached: %d connection(s) closed without flushing", s.Options().ShutdownTimeout, stuckN)})
				} else {
					assert.Assert(t, len(warned) == 0, "%s", strings.Join(warned, "\n"))
				}
				t.Logf("%d stuck clients, %d messages each (backlog queued in %v): stopped in %v", stuckN, tc.backlog+sent, queued, took)
				notes = append(notes, fmt.Sprintf("%s: stopped in %v (bound %v), reason %s", tc.name, took.Round(time.Millisecond), tc.deadline, tc.want.Name()))
				slowest = max(slowest, took)
				rss = soak.SelfMaxRSSKiB()
			})
		})
	}
	assert.NilError(t, soak.Record(soak.Figures{
		Suite: "stuck clients", Mode: "in-process", Connections: stuckN + 2,
		Shutdown: slowest, MaxRSSKiB: rss,
		GoroutinesBefore: -1, GoroutinesPeak: -1, GoroutinesAfter: -1, FDsBefore: -1, FDsPeak: -1, FDsAfter: -1,
		Notes: fmt.Sprintf("%d stuck subscribers (never read, %d KiB messages) + 1 healthy subscriber + 1 publisher per case; goroutines checked with goleak per case; %s",
			stuckN, msgSize/1024, strings.Join(notes, "; ")),
	}))
}
