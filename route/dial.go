package route

import (
	"fmt"
	"net"
	"time"
)

// connectErrorReports is how often a failing first connect is reported at
// error level (nats-server's DEFAULT_CONNECT_ERROR_REPORTS); a failing
// reconnect is reported on every attempt.
const connectErrorReports = 3600

// dial is a solicited route's dialler: it waits the start delay, then
// dials until connected, told to give up, or cancelled, moving the machine
// through Connecting and Retrying. Once connected it becomes the route's
// reader.
func (r *Route) dial() {
	r.mu.Lock()
	d := r.startDelay
	r.mu.Unlock()
	if d > 0 && !r.sleep(d) {
		return
	}
	for {
		cfg := r.cl.config()
		r.mu.Lock()
		u, kind, first := r.url, r.kind, r.firstDial
		r.mu.Unlock()
		if kind == Explicit && !hasRoute(cfg, u) {
			r.cl.log.Debugf("Not attempting to connect to explicit route %q, no longer part of configured routes", redacted(u))
			r.fire(EventGiveUp, "no longer configured")
			return
		}
		if r.cl.isSelf(u.Host) {
			r.cl.log.Debugf("Not attempting to connect to route %q: it is this server's own cluster address", redacted(u))
			r.fire(EventGiveUp, "own cluster address")
			return
		}
		r.cl.log.Debugf("Trying to connect to route on %s", u.Host)
		dialer := net.Dialer{Timeout: DefaultDialTimeout}
		nc, err := dialer.DialContext(r.ctx, "tcp", u.Host)
		if err == nil {
			if kind == Explicit && !hasRoute(r.cl.config(), u) {
				nc.Close()
				r.fire(EventGiveUp, "no longer configured")
				return
			}
			r.run(nc, "dialled "+u.Host)
			return
		}
		if r.ctx.Err() != nil {
			return // cancelled
		}
		r.mu.Lock()
		r.attempts++
		attempts := r.attempts
		r.mu.Unlock()
		const format = "Error trying to connect to route (attempt %v): %v"
		if !first || attempts == 1 || attempts%connectErrorReports == 0 {
			r.cl.log.Errorf(format, attempts, err)
		} else {
			r.cl.log.Debugf(format, attempts, err)
		}
		if kind == Implicit && (cfg.ConnectRetries <= 0 || attempts > cfg.ConnectRetries) {
			r.fire(EventGiveUp, fmt.Sprintf("%d attempt(s) failed", attempts))
			return
		}
		if !r.fire(EventDialFailed, err.Error()) {
			return
		}
		r.mu.Lock()
		d := r.delay
		r.mu.Unlock()
		if !r.sleep(d) || !r.fire(EventRetry, "") {
			return
		}
	}
}

// sleep waits d, reporting false if the route was cancelled meanwhile.
func (r *Route) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
}
