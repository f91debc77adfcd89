package main

import (
	"fmt"
	"slices"
	"strings"
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

// A scenario is one group of rows of the report: what it measures (run, on
// one server kind per call), the rows it reports (defs) and how it measures
// them (how: Markdown bullets for the report's last section). Its name is
// what -only selects.
//
// To add a row to an existing group of a table-driven scenario (the
// pub/sub loads in loads.go, request/reply in reqreply.go), add one line
// to that table. To add a scenario, write its run function and its defs
// and add one entry to [harness.scenarios].
type scenario struct {
	name string
	run  func(serverKind) error
	defs func() []metricDef
	how  func() string
	// once: run once per round with no server (k is the zero serverKind),
	// whenever any other scenario runs; for the machine's own limits.
	once bool
}

// scenarios lists every scenario in the order each round runs them and the
// report shows them.
func (h *harness) scenarios() []scenario {
	all := []scenario{
		{name: "loopback", run: h.loopback, defs: loopbackDefs, how: loopbackHow, once: true},
		{name: "throughput", run: h.throughput, defs: throughputDefs, how: throughputHow},
		{name: "perms", run: h.perms, defs: permsDefs, how: permsHow},
	}
	all = append(all, h.loadScenarios()...)
	all = append(all,
		scenario{name: "reqreply", run: h.reqReply, defs: reqReplyDefs, how: reqReplyHow},
		scenario{name: "crossroute", run: h.crossRoute, defs: crossDefs, how: crossHow},
		scenario{name: "subjects", run: h.subjectSpace, defs: h.spaceDefs, how: h.spaceHow},
		scenario{name: "queuegroups", run: h.queueGroups, defs: queueGroupDefs, how: queueGroupHow},
		scenario{name: "connz", run: h.connzLoad, defs: connzDefs, how: connzHow},
		scenario{name: "churn", run: h.churn, defs: churnDefs, how: churnHow},
		scenario{name: "idle", run: h.idle, defs: h.idleDefs, how: idleHow},
		scenario{name: "lameduck", run: h.lameDuck, defs: lameDuckDefs, how: lameDuckHow},
	)
	return all
}

// scenarioNames lists the names -only accepts.
func scenarioNames() string {
	var names []string
	for _, sc := range (&harness{}).scenarios() {
		names = append(names, sc.name)
	}
	return strings.Join(names, ",")
}

// selected reports whether -only selects sc in this run.
func (h *harness) selected(sc scenario) bool {
	return h.cfg.only == nil || h.cfg.only[sc.name] || (sc.once && len(h.cfg.only) > 0)
}

// allDefs is every row the scenarios can report, in report order.
func (h *harness) allDefs() []metricDef {
	var defs []metricDef
	for _, sc := range h.scenarios() {
		defs = append(defs, sc.defs()...)
	}
	return defs
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

func (h *harness) idleDefs() []metricDef {
	conns := h.cfg.conns
	var defs []metricDef
	for _, n := range conns {
		defs = append(defs, metricDef{key: fmt.Sprintf("idle_mem_%d", n), title: "idle memory per connection, %s connections (RSS over baseline)", unit: "KiB/conn", prec: 1, judge: ratioAtMost(0.75)})
	}
	for i, n := range conns {
		d := metricDef{key: fmt.Sprintf("sigterm_%d", n), title: "SIGTERM → exit, %s idle connections", unit: "ms", prec: 0}
		if i == len(conns)-1 {
			d.judge = ratioAtMost(0.5)
		}
		defs = append(defs, d)
	}
	for _, n := range conns {
		defs = append(defs, metricDef{key: fmt.Sprintf("sigterm_%d_cpu", n), title: "server CPU from SIGTERM to exit, %s idle connections", unit: "ms", prec: 0})
	}
	return defs
}

func lameDuckDefs() []metricDef {
	ld := fmt.Sprintf("%d", ldClients)
	return []metricDef{
		{key: "ld_first", title: "lame duck, " + ld + " clients: first close after the signal", unit: "s", prec: 2},
		{key: "ld_last", title: "lame duck, " + ld + " clients: last close after the signal", unit: "s", prec: 2},
		{key: "ld_exit", title: "lame duck, " + ld + " clients: process exit after the signal", unit: "s", prec: 2},
		{key: "ld_first_pct", title: "lame duck: first close, % of the close window", unit: "%", prec: 1},
		{key: "ld_last_pct", title: "lame duck: last close, % of the close window", unit: "%", prec: 1, judge: lastTenth},
	}
}

func idleHow() string {
	s := fmt.Sprintf("- **Idle memory**: a fresh server; VmRSS from `/proc/PID/status` 1 s after it is ready is the baseline; client processes (this harness re-run as `holder`, %d connections each) open raw TCP connections that send `CONNECT {...,\"protocol\":1}` and `PING` and wait for the `PONG`; 2 s after the last one, VmRSS again. Figure: (RSS − baseline) / connections.\n", perHolder)
	s += "- **SIGTERM**: with those connections still open, SIGTERM to the server; figure: signal sent → the harness's `wait` on the process returns. The client processes do not read while the server shuts down (so they take no CPU from it, as clients on other machines would not); after the exit they check that the server closed every connection, and the run fails otherwise.\n"
	if hard := hardNoFile(); hard > 0 && hard < 20100 {
		s += fmt.Sprintf("- **Open-file limit**: this machine's hard RLIMIT_NOFILE is %d and only a process with CAP_SYS_RESOURCE may raise it, so no server here can hold 20,000 sockets plus its own files. The \"20,000\" scenarios use %s connections, the most that fits; the harness raises each process's soft limit to the hard one (Go servers do so themselves), and splits the client side over processes of %d connections.\n",
			hard, commas(idleCount(20000)), perHolder)
	}
	return s
}

func lameDuckHow() string {
	return fmt.Sprintf("- **Lame duck**: %d held connections (one client process); SIGUSR2 to the server; the client records, per connection, when the server closed it. The close window is the duration minus the grace period (%v − %v = %v), starting %v after the signal; a close at %v + x is x / window percent of it. The target asks for the last close in the last 10%% of the window (nats-server closes clients at a random point in half-to-whole of each interval, so its last close lands near 60–70%%).\n",
		ldClients, lameDuckDuration, lameDuckGrace, lameDuckDuration-lameDuckGrace, lameDuckGrace, lameDuckGrace)
}
