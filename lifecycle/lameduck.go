package lifecycle

import (
	"context"
	"time"

	"github.com/looplab/fsm"
	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/system"
)

// closeMargin is the end of the window kept free of scheduled closes, so
// that the last close — scheduled, then flushed and seen by the client —
// still lands inside the window: 3% of it, at most a second. (Measured
// without it: 5,000 clients over 28 s, last close seen 0.4% after the
// window.)
func closeMargin(window time.Duration) time.Duration {
	return min(window*3/100, time.Second)
}

// minSlot is the shortest slot given to one close; with more clients than
// the window has such slots, clients are closed in batches.
const minSlot = 50 * time.Microsecond

// enterLameDuck closes the client listener at once and starts the drain in
// a goroutine the server owns, so the lifecycle loop stays free (a shutdown
// can cut the drain short).
//
// After a handoff the sockets were released already, and the drain
// announces the lame duck as [Server.announceHandoff] does.
func (s *Server) enterLameDuck(_ context.Context, e *fsm.Event) {
	o := s.opts.Load()
	handoff := e.Event == EventHandoff
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	ln := s.ln
	s.drainCancel = cancel
	clients := s.clientsLocked()
	s.mu.Unlock()
	ln.Close()
	clients, sys := s.splitSystemClients(clients)
	began := time.Now()
	plan := drainPlan(len(clients), len(sys), began, o.LameDuckDuration, o.LameDuckGracePeriod)
	s.sys.plan.Store(&plan)
	what := "stop accepting new clients"
	if handoff {
		what = "the new process accepts new clients"
	}
	s.log.Infof("Entering lame duck mode, %s; %d client(s) to close over %v after a grace period of %v",
		what, len(clients), o.LameDuckDuration-o.LameDuckGracePeriod, o.LameDuckGracePeriod)
	s.loops.Add(1)
	go s.drain(ctx, clients, sys, handoff, began, o.LameDuckDuration, o.LameDuckGracePeriod)
}

// splitSystemClients separates the system account's clients from the
// others: the drain closes the others, and leaves the system account's
// (operators watching the server) to the shutdown that ends it, after the
// SHUTDOWN event, so that they see the drain through.
func (s *Server) splitSystemClients(all []*conn.Conn) (clients, sys []*conn.Conn) {
	for _, c := range all {
		if s.isSystemClient(c) {
			sys = append(sys, c)
		} else {
			clients = append(clients, c)
		}
	}
	return clients, sys
}

// drainPlan is what a drain of n clients (and sys system-account clients,
// left to the shutdown) begun at began does: when its closes start and
// about when the last one is made (the shutdown follows at once).
func drainPlan(n, sys int, began time.Time, duration, grace time.Duration) system.DrainPlan {
	p := system.DrainPlan{
		Clients: n, SystemClients: sys, Start: began.UTC(), GracePeriod: grace, Duration: duration,
		ClosesFrom: began.UTC(), ExpectedEnd: began.UTC(),
	}
	if n == 0 {
		return p
	}
	window := drainWindow(duration, grace)
	slots, slot := slotsOf(n, window-closeMargin(window))
	p.ClosesFrom = p.Start.Add(grace)
	p.ExpectedEnd = p.ClosesFrom.Add(time.Duration(slots) * slot)
	return p
}

// drainWindow is the part of the lame-duck duration the closes are spread
// over.
func drainWindow(duration, grace time.Duration) time.Duration {
	if w := duration - grace; w > 0 {
		return w
	}
	return time.Second
}

// leaveLameDuck stops the drain where it is.
func (s *Server) leaveLameDuck(_ context.Context, _ *fsm.Event) {
	s.mu.Lock()
	cancel := s.drainCancel
	s.drainCancel = nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// drain announces lame duck to the clients, the system account's too (as a
// handoff's when handoff is set), waits the grace period, closes the
// clients (not the system account's) spread evenly over the rest of the
// window and then asks for shutdown. It stops early when ctx is cancelled
// (a shutdown came first).
//
// The grace period and the window are timed from began, the moment lame
// duck was entered, not from the end of the announcements (which take a
// while with thousands of clients), so every close lands where planned.
func (s *Server) drain(ctx context.Context, clients, sys []*conn.Conn, handoff bool, began time.Time, duration, grace time.Duration) {
	defer s.loops.Done()
	if all := append(clients[:len(clients):len(clients)], sys...); len(all) > 0 {
		if handoff {
			s.announceHandoff(all)
		} else {
			s.announceLameDuck(all)
		}
	}
	if len(clients) > 0 {
		timer := time.NewTimer(time.Until(began.Add(grace)))
		defer timer.Stop()
		if !wait(ctx, timer) {
			return
		}
		window := drainWindow(duration, grace)
		s.rnd.Shuffle(len(clients), func(i, j int) { clients[i], clients[j] = clients[j], clients[i] })
		plan := spread(len(clients), window-closeMargin(window), s.rnd.Int64N)
		start := began.Add(grace)
		for i, c := range clients {
			if d := time.Until(start.Add(plan[i])); d > 0 {
				timer.Reset(d)
				if !wait(ctx, timer) {
					return
				}
			}
			c.Close(conn.ServerShutdown)
		}
	}
	r := request{event: EventShutdown, cause: "lame duck drain complete", reply: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
	}
}

// wait waits for timer, reporting false if ctx ends first.
func wait(ctx context.Context, timer *time.Timer) bool {
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// spread returns, for n clients closed one after another over window, the
// offset from the start of the window at which to close each: the window is
// cut into one slot per client (capped at one second, as nats-server caps
// its interval) and each client is closed at a random moment of its own
// slot. When slots would be shorter than minSlot, clients share a slot in
// batches. Offsets never decrease, and the last one lies in the last slot,
// so closes are flat over the window and end inside it. randN(k) returns a
// random integer in [0, k).
func spread(n int, window time.Duration, randN func(int64) int64) []time.Duration {
	plan := make([]time.Duration, n)
	if n == 0 {
		return plan
	}
	slots, slot := slotsOf(n, window)
	perSlot := (n + slots - 1) / slots
	var at time.Duration
	for i := range plan {
		k := i / perSlot
		if i%perSlot == 0 {
			at = time.Duration(k)*slot + time.Duration(randN(int64(slot)))
		}
		plan[i] = at
	}
	return plan
}

// slotsOf returns how many slots n closes over window take and how long
// each is: one per client, capped at one second, or fewer of minSlot each
// when the window is too short for one each.
func slotsOf(n int, window time.Duration) (slots int, slot time.Duration) {
	slots = n
	if window/time.Duration(n) < minSlot {
		slots = max(1, int(window/minSlot))
	}
	return slots, min(window/time.Duration(slots), time.Second)
}
