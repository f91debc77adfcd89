package lifecycle

import (
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
)

// TestSpreadPlan checks the slot arithmetic exactly, with a fake random
// source that returns the top (or bottom) of each slot.
func TestSpreadPlan(t *testing.T) {
	top := func(k int64) int64 { return k - 1 }
	bottom := func(int64) int64 { return 0 }
	cases := []struct {
		name      string
		n         int
		window    time.Duration
		randN     func(int64) int64
		wantFirst time.Duration
		wantLast  time.Duration
	}{
		{"50 clients over 5s, top of slot", 50, 5 * time.Second, top, 100*time.Millisecond - 1, 5*time.Second - 1},
		{"50 clients over 5s, bottom of slot", 50, 5 * time.Second, bottom, 0, 4900 * time.Millisecond},
		{"slot capped at 1s", 3, time.Minute, top, time.Second - 1, 3*time.Second - 1},
		{"batched below minSlot", 1000, 10 * time.Millisecond, top, minSlot - 1, 10*time.Millisecond - 1},
		{"one client", 1, 500 * time.Millisecond, top, 500*time.Millisecond - 1, 500*time.Millisecond - 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := spread(tc.n, tc.window, tc.randN)
			assert.Equal(t, len(plan), tc.n)
			assert.Equal(t, plan[0], tc.wantFirst)
			assert.Equal(t, plan[tc.n-1], tc.wantLast)
			assert.Assert(t, sort.SliceIsSorted(plan, func(i, j int) bool { return plan[i] < plan[j] }))
			assert.Assert(t, plan[tc.n-1] < tc.window)
		})
	}
	assert.Equal(t, len(spread(0, time.Second, top)), 0)
}

// TestLameDuck: every nats.go client's LameDuckModeHandler fires, new
// connections are refused from the moment lame duck begins, each client is
// closed with ServerShutdown exactly at the moment the drain planned for it
// (the seeded plan: flat over the window, the last in its last slot), and
// then the server shuts down. It runs on the fake clock of a synctest
// bubble over an in-memory network: the 5.5 s window passes at once.
func TestLameDuck(t *testing.T) {
	const (
		clients = 50
		grace   = 500 * time.Millisecond
		window  = 5 * time.Second
	)
	bubble(t, func(t *testing.T) {
		mn := newMemNet()
		dir := t.TempDir()
		s := startMemServer(t, mn, Deps{Rand: rand.New(rand.NewPCG(1, 2))}, func(o *Options) {
			o.LameDuckDuration = grace + window
			o.LameDuckGracePeriod = grace
			o.PortsFileDir = dir
		})
		var ldm sync.WaitGroup
		ldm.Add(clients)
		for range clients {
			var once sync.Once
			connectMem(t, mn, s, nats.LameDuckModeHandler(func(*nats.Conn) { once.Do(ldm.Done) }))
		}
		synctest.Wait()
		assert.Equal(t, s.NumClients(), clients)
		addr := s.Addr()

		began := time.Now()
		assert.NilError(t, s.EnterLameDuckCause("test"))
		_, err := mn.Dial("tcp", addr)
		assert.Assert(t, err != nil, "a new connection was accepted in lame duck")
		ldm.Wait()
		assert.Equal(t, time.Since(began), time.Duration(0), "the lame-duck INFO took fake time")

		s.WaitForShutdown()
		ended := time.Since(began)
		closed := s.Closed()
		assert.Equal(t, len(closed), clients)
		var got []time.Duration
		for _, c := range closed {
			assert.Equal(t, c.Reason, conn.ServerShutdown)
			got = append(got, c.Stop.Sub(began.Add(grace)))
		}
		slices.Sort(got)
		// The plan the drain made, drawn from a source seeded alike
		// (after the connections' seed): the shuffle first, then one
		// offset per slot.
		rnd := rand.New(rand.NewPCG(1, 2))
		connRand(rnd)
		rnd.Shuffle(clients, func(int, int) {})
		want := spread(clients, window-closeMargin(window), rnd.Int64N)
		assert.DeepEqual(t, got, want)
		assert.Assert(t, got[0] >= 0 && got[clients-1] >= window*9/10 && got[clients-1] < window, "closes span [%v, %v]", got[0], got[clients-1])
		assert.Equal(t, ended, grace+got[clients-1], "the shutdown did not follow the last close at once")
		entries, _ := readDir(dir)
		assert.Equal(t, len(entries), 0, "ports file left behind")
	})
}

// TestShutdownCutsLameDuckShort: a shutdown during the drain closes the
// remaining clients at once and stops the drain.
func TestShutdownCutsLameDuckShort(t *testing.T) {
	s := startServer(t, func(o *Options) {
		o.LameDuckDuration = time.Hour
		o.LameDuckGracePeriod = time.Minute
	})
	for range 5 {
		connect(t, s)
	}
	waitFor(t, "clients", func() bool { return s.NumClients() == 5 })
	assert.NilError(t, s.EnterLameDuck())
	assert.Equal(t, s.State(), LameDuck)
	assert.NilError(t, s.Shutdown())
	assert.Equal(t, len(s.Closed()), 5)
	var got []string
	for _, tr := range s.History() {
		got = append(got, tr.From+"->"+tr.To)
	}
	assert.DeepEqual(t, got, []string{"init->listening", "listening->lame_duck", "lame_duck->shutting_down", "shutting_down->stopped"})
}

// TestLameDuckDuringShutdownIsIgnored: once shutting down, a lame-duck
// request changes nothing.
func TestLameDuckAfterShutdownIsIgnored(t *testing.T) {
	s := startServer(t, nil)
	assert.NilError(t, s.Shutdown())
	assert.NilError(t, s.EnterLameDuck())
	assert.Equal(t, s.State(), Stopped)
}
