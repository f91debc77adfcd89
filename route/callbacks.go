package route

import (
	"math/rand/v2"
	"time"

	"github.com/natsd/natsd/internal/machine"
)

// The route machine's callbacks (see [Machine] for what each guarantees).
// They run under the route's fire lock and may take the cluster's lock,
// never the other way round.

// enterRetrying counts the failed attempt and computes the backoff.
func (r *Route) enterRetrying(step) error {
	cfg := r.cl.config()
	r.mu.Lock()
	switch {
	case r.delay == 0:
		r.delay = DefaultConnectDelay
	case cfg.ConnectBackoff:
		r.delay = min(2*r.delay, DefaultConnectMaxDelay)
	}
	r.mu.Unlock()
	return nil
}

// enterSecuring stamps the start time and counts the reader, the caller's
// goroutine, which runs the TLS handshake next ([Route.secure]); the writer
// is started once the route is secured.
func (r *Route) enterSecuring(step) error {
	r.mu.Lock()
	r.start = time.Now()
	r.live.Store(1)
	r.mu.Unlock()
	return nil
}

// enterHandshaking starts the handshake: CONNECT (solicited) and INFO are
// queued, the first PING and the auth timer armed, the writer started. The
// reader is the caller's goroutine, which runs [Route.readLoop] next.
func (r *Route) enterHandshaking(t step) error {
	cfg := r.cl.config()
	r.mu.Lock()
	if t.from != Securing {
		r.start = time.Now()
	}
	r.live.Store(2)
	solicited, gossipMode := r.solicited, r.gossipMode
	var user, pass string
	if solicited && r.url != nil && r.url.User != nil {
		user = r.url.User.Username()
		pass, _ = r.url.User.Password()
	}
	r.mu.Unlock()
	if solicited {
		r.queue(cfg.connectLine(user, pass, t.from == Securing))
	}
	info := cfg.localInfo(gossipMode, false)
	info.TLSRequired, info.TLSVerify = t.from == Securing, t.from == Securing
	r.queue(infoLine(&info))
	d := min(cfg.pingInterval(), FirstPingInterval)
	d += time.Duration(rand.Int64N(int64(d/5) + 1))
	r.mu.Lock()
	r.pingTmr = time.AfterFunc(d, r.pingTimerFired)
	if r.accepted && cfg.Username != "" {
		r.authTmr = time.AfterFunc(cfg.authTimeout(), r.authTimerFired)
	}
	r.mu.Unlock()
	r.cl.goRoutine(r.writeLoop)
	r.cl.log.Infof("%s - Route connection created", r)
	return nil
}

// beforeRegistered registers the route, or refuses a duplicate.
func (r *Route) beforeRegistered(step) error {
	return r.cl.register(r)
}

// enterActive adds the remote's client URLs, sends the gossip and the
// whole local interest, after which every change of it.
func (r *Route) enterActive(step) error {
	r.cl.activated(r)
	r.cl.router.attach(r)
	return nil
}

// enterClosing unregisters the route, drops the remote's interest, stops
// its timers and starts the flush (or skips it: a route closed while
// securing has nothing to flush, and its socket is closed at once to end
// the handshake).
func (r *Route) enterClosing(t step) error {
	r.cl.unregister(r)
	r.cl.router.detach(r)
	r.mu.Lock()
	r.openStall()
	if r.pingTmr != nil {
		r.pingTmr.Stop()
		r.pingTmr = nil
	}
	if r.authTmr != nil {
		r.authTmr.Stop()
		r.authTmr = nil
	}
	nc := r.nc
	r.wake.Broadcast()
	r.mu.Unlock()
	if (r.skipFlush() || t.from == Securing) && nc != nil {
		nc.Close()
	}
	return nil
}

// enterClosed ends the dialler's waits, releases the buffers and hands
// the route to the cluster, which counts it and may start a reconnect.
func (r *Route) enterClosed(t step) error {
	r.cancel()
	r.mu.Lock()
	r.interest = nil
	r.out, r.spare = nil, nil
	r.mu.Unlock()
	r.cl.closedRoute(r, t.from)
	return nil
}

// leaveState records the transition and logs it.
func (r *Route) leaveState(t step) error {
	r.mu.Lock()
	remote := r.remoteID
	u := redacted(r.url)
	r.mu.Unlock()
	tr := Transition{
		RID:      r.rid,
		RemoteID: remote,
		URL:      u,
		Transition: machine.Transition{
			From: t.from.String(), To: t.to.String(), Event: t.event.String(), Cause: t.cause, At: time.Now(),
		},
	}
	r.cl.history.record(tr)
	if t.cause != "" {
		r.cl.log.Infof("%s - Route state %s -> %s (event %s, cause: %s)", r, t.from, t.to, t.event, t.cause)
	} else {
		r.cl.log.Infof("%s - Route state %s -> %s (event %s)", r, t.from, t.to, t.event)
	}
	return nil
}
