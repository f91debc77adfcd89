package main

import (
	"fmt"
	"slices"
	"syscall"
	"time"
)

// harness holds what every scenario needs.
type harness struct {
	cfg  config
	res  *results
	nats string // the nats CLI
	// quietWaited is how long waitQuiet has waited so far in this run.
	quietWaited time.Duration
}

type scenario struct {
	name string
	run  func(serverKind) error
}

func (h *harness) scenarios() []scenario {
	return []scenario{
		{"throughput", h.throughput},
		{"churn", h.churn},
		{"idle", h.idle},
		{"lameduck", h.lameDuck},
		{"queuegroups", h.queueGroups},
		{"connz", h.connzLoad},
	}
}

// idleCount is the number of idle connections actually opened for a
// requested count: a server cannot hold more sockets than the hard
// open-file limit allows (20,000 here, and only root with
// CAP_SYS_RESOURCE may raise it), so the count is capped just below it,
// leaving room for the server's own files.
func idleCount(want int) int {
	if hard := hardNoFile(); hard > 0 && uint64(want) > hard-100 {
		return int(hard - 100)
	}
	return want
}

// idle opens each idle-connection count against a fresh server, measures
// the server's memory per connection, then times a SIGTERM shutdown with
// those connections open.
func (h *harness) idle(k serverKind) error {
	for _, want := range h.cfg.conns {
		if h.cfg.quick {
			want = min(want, 2000)
		}
		n := idleCount(want)
		if err := h.idleOnce(k, want, n); err != nil {
			return err
		}
	}
	return nil
}

func (h *harness) idleOnce(k serverKind, want, n int) error {
	s, err := h.start(k, fmt.Sprintf("idle-%d", want))
	if err != nil {
		return err
	}
	defer s.stop()
	h.waitQuiet()
	time.Sleep(time.Second)
	base, err := s.rss()
	if err != nil {
		return err
	}
	hs, err := startHolders(s.addr(), n, false)
	defer stopHolders(hs)
	if err != nil {
		return err
	}
	// Let the server finish what the handshakes started (timers, GC).
	time.Sleep(2 * time.Second)
	rss, err := s.rss()
	if err != nil {
		return err
	}
	perConn := float64(rss-base) / float64(n) / 1024
	memKey := fmt.Sprintf("idle_mem_%d", want)
	h.res.add(memKey, k.name, perConn)
	h.res.setCount(memKey, n)
	logf("    %d connections: RSS %.1f MiB over a %.1f MiB baseline, %.1f KiB per connection",
		n, float64(rss-base)/(1<<20), float64(base)/(1<<20), perConn)

	cpu0, cerr := s.cpuTime()
	t0, err := s.signal(syscall.SIGTERM)
	if err != nil {
		return err
	}
	if !s.waitExit(90 * time.Second) {
		return fmt.Errorf("no exit within 90 s of SIGTERM with %d connections", n)
	}
	d := s.exit.Sub(t0)
	termKey := fmt.Sprintf("sigterm_%d", want)
	h.res.add(termKey, k.name, float64(d.Microseconds())/1000)
	h.res.setCount(termKey, n)
	if cerr == nil {
		// The server's CPU from the signal to its exit (10 ms ticks before).
		h.res.add(termKey+"_cpu", k.name, float64((s.exitCPUTime()-cpu0).Microseconds())/1000)
		h.res.setCount(termKey+"_cpu", n)
	}
	closed, _, err := reportAll(hs, 10*time.Second)
	if err != nil {
		return err
	}
	logf("    SIGTERM: exit after %v; %d/%d connections closed", d.Round(time.Millisecond), closed, n)
	if closed != n {
		return fmt.Errorf("SIGTERM: only %d of %d connections were closed", closed, n)
	}
	return nil
}

// ldClients is how many clients the lame-duck scenario holds.
const ldClients = 5000

// lameDuck holds ldClients connections, sends SIGUSR2 (lame duck) and
// notes, on the client side, when the first and last connection were
// closed and when the server exited.
func (h *harness) lameDuck(k serverKind) error {
	n := ldClients
	if h.cfg.quick {
		n = 1000
	}
	s, err := h.start(k, "lameduck")
	if err != nil {
		return err
	}
	defer s.stop()
	h.waitQuiet()
	hs, err := startHolders(s.addr(), n, true)
	defer stopHolders(hs)
	if err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	t0, err := s.signal(syscall.SIGUSR2)
	if err != nil {
		return err
	}
	if !s.waitExit(lameDuckDuration + 30*time.Second) {
		return fmt.Errorf("lame duck: no exit within %v of the signal", lameDuckDuration+30*time.Second)
	}
	_, closes, err := reportAll(hs, 10*time.Second)
	if err != nil {
		return err
	}
	if len(closes) != n {
		return fmt.Errorf("lame duck: only %d of %d connections were closed", len(closes), n)
	}
	slices.Sort(closes)
	sec := func(ns int64) float64 { return float64(ns-t0.UnixNano()) / 1e9 }
	first, last := sec(closes[0]), sec(closes[len(closes)-1])
	exit := s.exit.Sub(t0).Seconds()
	window := (lameDuckDuration - lameDuckGrace).Seconds()
	inWindow := func(t float64) float64 { return 100 * (t - lameDuckGrace.Seconds()) / window }
	h.res.add("ld_first", k.name, first)
	h.res.add("ld_last", k.name, last)
	h.res.add("ld_exit", k.name, exit)
	h.res.add("ld_first_pct", k.name, inWindow(first))
	h.res.add("ld_last_pct", k.name, inWindow(last))
	for _, key := range []string{"ld_first", "ld_last", "ld_exit", "ld_first_pct", "ld_last_pct"} {
		h.res.setCount(key, n)
	}
	logf("    lame duck: first close %.2f s, last %.2f s (%.1f%% of the %v window), exit %.2f s",
		first, last, inWindow(last), lameDuckDuration-lameDuckGrace, exit)
	return nil
}
