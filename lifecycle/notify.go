package lifecycle

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/natsd/natsd/internal/sdnotify"
)

// extendMargin is added to every EXTEND_TIMEOUT_USEC: the time the process
// needs after the drain to exit.
const extendMargin = 5 * time.Second

// heartbeatEvery is how often the lifecycle loop sends the status line
// (and, with a watchdog, pings at least twice per watchdog interval).
const heartbeatEvery = time.Second

// newHeartbeatTicker returns the lifecycle loop's ticker: every
// heartbeatEvery, or half the watchdog interval if shorter; a ticker that
// never fires when no service manager is notified.
func (s *Server) newHeartbeatTicker() *time.Ticker {
	n := s.notifier
	if n == nil {
		t := time.NewTicker(time.Hour)
		t.Stop()
		return t
	}
	d := heartbeatEvery
	if wd := n.Watchdog(); wd > 0 && wd/2 < d {
		d = wd / 2
	}
	return time.NewTicker(d)
}

// loopHook, when set (tests only), runs at every heartbeat on the lifecycle
// loop; a test blocks it to show that a wedged loop stops the pings.
var loopHook atomic.Pointer[func()]

// heartbeat runs on the lifecycle loop: watchdog ping, status line and,
// while draining, a stop-timeout extension that follows the drain.
func (s *Server) heartbeat() {
	if h := loopHook.Load(); h != nil {
		(*h)()
	}
	n := s.notifier
	if n == nil {
		return
	}
	st, since := s.StateSince()
	lines := []string{"STATUS=" + s.statusLine(st)}
	if ext := s.extendTimeout(st, since); ext > 0 {
		lines = append(lines, "EXTEND_TIMEOUT_USEC="+strconv.FormatInt(ext.Microseconds(), 10))
	}
	if n.Watchdog() > 0 {
		lines = append(lines, "WATCHDOG=1")
	}
	s.send(n, lines...)
}

// notifyState tells the service manager that a drain began; called from
// the transition bookkeeping. (READY=1 waits for the listeners: see
// [Server.notifyReady].)
func (s *Server) notifyState(st State, since time.Time) {
	n := s.notifier
	if n == nil {
		return
	}
	switch st {
	case LameDuck, ShuttingDown:
		s.send(n, "STOPPING=1",
			"EXTEND_TIMEOUT_USEC="+strconv.FormatInt(s.extendTimeout(st, since).Microseconds(), 10),
			"STATUS="+s.statusLine(st))
	}
}

// notifyReady tells the service manager the server is ready, once every
// listener serves (from enter_listening).
func (s *Server) notifyReady() {
	if n := s.notifier; n != nil {
		s.send(n, "READY=1", "MAINPID="+strconv.Itoa(os.Getpid()), "STATUS="+s.statusLine(Listening))
	}
}

// notifyReloading announces a reload (Type=notify-reload).
func (s *Server) notifyReloading() {
	if n := s.notifier; n != nil {
		s.send(n, "RELOADING=1", "MONOTONIC_USEC="+strconv.FormatInt(sdnotify.Monotonic(), 10))
	}
}

// notifyReloaded ends a reload, applied or rejected.
func (s *Server) notifyReloaded() {
	if n := s.notifier; n != nil {
		s.send(n, "READY=1", "STATUS="+s.statusLine(s.State()))
	}
}

// extendTimeout is how long the stop may still take from now: the rest of
// the lame-duck window plus the shutdown deadline, or the rest of the
// shutdown deadline, plus a margin. Zero outside a drain.
func (s *Server) extendTimeout(st State, since time.Time) time.Duration {
	o := s.opts.Load()
	var left time.Duration
	switch st {
	case LameDuck:
		left = time.Until(since.Add(o.LameDuckDuration)) + o.ShutdownTimeout
	case ShuttingDown:
		left = time.Until(since.Add(o.ShutdownTimeout))
	default:
		return 0
	}
	return max(left, 0) + extendMargin
}

// statusLine is the one-line STATUS= text.
func (s *Server) statusLine(st State) string {
	n := s.NumClients()
	switch st {
	case Listening:
		return fmt.Sprintf("listening, %d clients", n)
	case Upgrading:
		return fmt.Sprintf("upgrading, %d clients", n)
	case LameDuck:
		return fmt.Sprintf("lame duck: %d clients left", n)
	case ShuttingDown:
		return fmt.Sprintf("shutting down: %d clients left", n)
	}
	return st.String()
}

func (s *Server) send(n Notifier, lines ...string) {
	if err := n.Send(lines...); err != nil {
		s.log.Warnf("systemd notify: %v", err)
	}
}
