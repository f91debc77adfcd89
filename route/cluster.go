package route

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/listener"
	"github.com/sirupsen/logrus"
)

// historySize is how many route transitions the cluster keeps.
const historySize = 256

// Hooks are what the server gives the cluster to tell it about changes.
type Hooks struct {
	// URLsChanged is called when the set of the other servers' client URLs
	// changed ([Cluster.RemoteClientURLs]). Calls are serialised and made
	// without any of the cluster's or a route's locks held but the route's
	// fire lock; the hook must not close routes.
	URLsChanged func()
}

// Cluster is this server's membership in a cluster: the route listener's
// accepted routes, the solicited routes and their diallers, the registry
// of active routes by remote server id, the gossip and the
// reference-counted client URLs of the other servers.
type Cluster struct {
	cfg    atomic.Pointer[Config]
	log    *logrus.Logger
	hooks  Hooks
	router *Router
	// in and out count the messages received from and sent to routes.
	in, out counter
	rids    atomic.Uint64
	history history
	// closedBy counts routes closed per close reason.
	closedBy [conn.NumClosedStates + 1]atomic.Int64

	mu sync.Mutex
	// routes holds every route not yet Closed; remotes the active ones by
	// remote server id.
	routes   map[uint64]*Route
	remotes  map[string]*Route
	urls     map[string]int // other servers' client URLs, reference-counted
	self     map[string]bool
	stopping bool
	ln       *listener.Listener
	// tlsName is the first host name of the explicit routes, the server
	// name a dialled route to an IP verifies (see saveTLSNameLocked).
	tlsName string

	// wg tracks the cluster's goroutines: diallers (which become solicited
	// routes' readers) and writers. Accepted routes' readers are tracked
	// by the listener.
	wg       sync.WaitGroup
	notifyMu sync.Mutex
}

// New returns a cluster that does nothing until [Cluster.Serve]. Its
// routes carry the interest and messages of rt (the server's
// [conn.Router]); with a nil rt they only record the remote interest and
// drop the messages.
func New(cfg *Config, log *logrus.Logger, hooks Hooks, rt *Router) *Cluster {
	if rt == nil {
		rt = NewRouter(nil, log)
	}
	c := &Cluster{
		log:     log,
		hooks:   hooks,
		router:  rt,
		routes:  make(map[uint64]*Route),
		remotes: make(map[string]*Route),
		urls:    make(map[string]int),
	}
	c.history.max = historySize
	c.cfg.Store(cfg)
	return c
}

func (c *Cluster) config() *Config   { return c.cfg.Load() }
func (c *Cluster) maxPending() int64 { return c.config().MaxPending }
func (c *Cluster) writeDeadline() time.Duration {
	if d := c.config().WriteDeadline; d > 0 {
		return d
	}
	return 10 * time.Second
}

// goRoutine runs f in a goroutine the cluster waits for.
func (c *Cluster) goRoutine(f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// Serve starts accepting routes on ln and dialling the explicit routes. It
// returns at once; [Cluster.Shutdown] stops both.
func (c *Cluster) Serve(ln *listener.Listener) {
	cfg := c.config()
	c.mu.Lock()
	c.ln = ln
	c.self = selfAddrs(ln.Addr())
	c.mu.Unlock()
	c.log.Infof("Cluster name is %s", cfg.Name)
	c.log.Infof("Listening for route connections on %s", net.JoinHostPort(cfg.Host, strconv.Itoa(ln.Port())))
	c.goRoutine(func() {
		if err := ln.Serve(c.accept); err != nil {
			c.log.Errorf("Route accept loop stopped: %v", err)
		}
	})
	c.mu.Lock()
	c.saveTLSNameLocked(cfg.Routes)
	for _, u := range cfg.Routes {
		c.solicitLocked(u, Explicit, gossipDefault, 0, true)
	}
	c.mu.Unlock()
}

// selfAddrs lists the host:port strings that reach this server's route
// listener, so an explicit route to one of them is never dialled.
func selfAddrs(a *net.TCPAddr) map[string]bool {
	port := strconv.Itoa(a.Port)
	out := map[string]bool{net.JoinHostPort(a.IP.String(), port): true}
	if a.IP.IsUnspecified() || a.IP.IsLoopback() {
		out[net.JoinHostPort("localhost", port)] = true
		out[net.JoinHostPort("127.0.0.1", port)] = true
		out[net.JoinHostPort("::1", port)] = true
	}
	if a.IP.IsUnspecified() {
		ifaces, _ := net.Interfaces()
		for _, i := range ifaces {
			addrs, _ := i.Addrs()
			for _, ad := range addrs {
				if n, ok := ad.(*net.IPNet); ok {
					out[net.JoinHostPort(n.IP.String(), port)] = true
				}
			}
		}
	}
	return out
}

// accept runs one accepted route on the listener's handler goroutine.
func (c *Cluster) accept(nc net.Conn) {
	c.mu.Lock()
	if c.stopping {
		c.mu.Unlock()
		nc.Close()
		return
	}
	r := newRoute(c, c.rids.Add(1), true)
	c.routes[r.rid] = r
	c.mu.Unlock()
	r.run(nc, "accepted from "+nc.RemoteAddr().String())
}

// solicitLocked starts a route that dials u after delay. c.mu is held.
func (c *Cluster) solicitLocked(u *url.URL, kind Kind, gossipMode byte, delay time.Duration, first bool) *Route {
	r := newRoute(c, c.rids.Add(1), false)
	r.url, r.solicited, r.kind, r.gossipMode = u, true, kind, gossipMode
	r.startDelay, r.firstDial = delay, first
	c.routes[r.rid] = r
	c.goRoutine(r.dial)
	return r
}

var (
	errStopping  = errors.New("cluster stopping")
	errDuplicate = errors.New("duplicate route")
)

// register records r as the route to its remote server, or refuses it as
// a duplicate. The survivor of a duplicate adopts the newcomer's URL if the
// newcomer was solicited, becomes explicit if the newcomer was, and is
// marked to reconnect; the newcomer will not reconnect.
func (c *Cluster) register(r *Route) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		return errStopping
	}
	r.mu.Lock()
	id := r.remoteID
	solicited, u, kind := r.solicited, r.url, r.kind
	r.mu.Unlock()
	if old := c.remotes[id]; old != nil {
		old.mu.Lock()
		if solicited {
			if !old.solicited || (kind == Explicit && old.kind != Explicit) {
				old.url = u
			}
			old.solicited = true
		}
		if kind == Explicit {
			old.kind = Explicit
		}
		old.retry = true
		old.mu.Unlock()
		r.mu.Lock()
		r.noReconnect = true
		r.mu.Unlock()
		return errDuplicate
	}
	c.remotes[id] = r
	r.mu.Lock()
	r.registered = true
	r.mu.Unlock()
	return nil
}

// activated runs when r became active: its client URLs join the set
// (unless no_advertise) and its INFO is forwarded to the other routes by
// nats-server's gossip rules.
func (c *Cluster) activated(r *Route) {
	cfg := c.config()
	r.mu.Lock()
	info := r.remote
	solicited, kind, localGossip := r.solicited, r.kind, r.gossipMode
	r.gossipMode = gossipDefault
	r.mu.Unlock()

	c.mu.Lock()
	changed := false
	if !cfg.NoAdvertise && len(info.ConnectURLs) > 0 {
		r.mu.Lock()
		r.urls = slices.Clone(info.ConnectURLs)
		r.mu.Unlock()
		changed = c.addURLsLocked(info.ConnectURLs)
	}
	var others []*Route
	for _, o := range c.remotes {
		if o != r {
			others = append(others, o)
		}
	}
	c.mu.Unlock()
	if changed {
		c.notifyURLs()
	}

	// Gossip: tell the other servers about the new one, so that each of
	// them dials it and the mesh stays full. A route that itself came
	// from gossip is not forwarded (unless told to override), nor one
	// whose INFO disables gossip.
	fromGossip := solicited && kind == Implicit
	if (fromGossip && localGossip != gossipOverride) || info.GossipMode == gossipDisabled || len(others) == 0 {
		return
	}
	info.Nonce = ""
	for _, o := range others {
		o.mu.Lock()
		oKind := o.kind
		o.mu.Unlock()
		switch {
		case (!solicited && oKind == Explicit) || (solicited && kind == Explicit):
			info.GossipMode = gossipOverride
		case !solicited:
			info.GossipMode = gossipDisabled
		default:
			info.GossipMode = gossipDefault
		}
		o.queue(infoLine(&info))
	}
}

// unregister removes r from the registry (if it is the registered route
// to its remote) and its client URLs from the set. It is idempotent.
func (c *Cluster) unregister(r *Route) {
	c.mu.Lock()
	r.mu.Lock()
	was := r.registered
	r.registered = false
	id := r.remoteID
	urls := r.urls
	r.urls = nil
	r.mu.Unlock()
	changed := false
	if was {
		if c.remotes[id] == r {
			delete(c.remotes, id)
		}
		changed = c.removeURLsLocked(urls)
	}
	c.mu.Unlock()
	if changed {
		c.notifyURLs()
	}
}

// remoteLameDuck handles a lame-duck INFO from r's server: its client URLs
// leave the set at once (and are not removed a second time when the route
// closes).
func (c *Cluster) remoteLameDuck(r *Route) {
	c.mu.Lock()
	r.mu.Lock()
	urls := r.urls
	r.urls = nil
	r.mu.Unlock()
	changed := c.removeURLsLocked(urls)
	c.mu.Unlock()
	c.log.Infof("%s - Remote server entered lame duck mode", r)
	if changed {
		c.notifyURLs()
	}
}

func (c *Cluster) addURLsLocked(urls []string) bool {
	changed := false
	for _, u := range urls {
		c.urls[u]++
		if c.urls[u] == 1 {
			changed = true
		}
	}
	return changed
}

func (c *Cluster) removeURLsLocked(urls []string) bool {
	changed := false
	for _, u := range urls {
		if n, ok := c.urls[u]; ok {
			if n <= 1 {
				delete(c.urls, u)
				changed = true
			} else {
				c.urls[u] = n - 1
			}
		}
	}
	return changed
}

// notifyURLs calls the URLsChanged hook, one call at a time. The hook reads
// the current set, so calls that race deliver the latest state last.
func (c *Cluster) notifyURLs() {
	if c.hooks.URLsChanged == nil {
		return
	}
	c.notifyMu.Lock()
	defer c.notifyMu.Unlock()
	c.hooks.URLsChanged()
}

// RemoteClientURLs returns the other servers' client URLs (host:port),
// sorted, without duplicates.
func (c *Cluster) RemoteClientURLs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.urls))
	for u := range c.urls {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// implicitRoute handles gossip about another server: it is dialled as an
// implicit route unless it is this server, already registered, or one of
// the configured routes.
func (c *Cluster) implicitRoute(info *Info) {
	cfg := c.config()
	if info.ID == cfg.Server.ID || info.RouteAccount != "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping || c.remotes[info.ID] != nil || configured(cfg, info) {
		return
	}
	u, err := url.Parse(info.IP)
	if err != nil || u.Host == "" {
		c.log.Errorf("Error parsing URL from INFO: %q", info.IP)
		return
	}
	for _, r := range c.routes {
		r.mu.Lock()
		pending := r.solicited && r.State() <= Retrying && r.url != nil && strings.EqualFold(r.url.Host, u.Host)
		r.mu.Unlock()
		if pending {
			return // already being dialled
		}
	}
	if info.AuthRequired {
		u.User = url.UserPassword(cfg.Username, cfg.Password)
	}
	c.log.Debugf("Gossip: connecting to implicit route %s (server %s)", redacted(u), info.ID)
	c.solicitLocked(u, Implicit, info.GossipMode, 0, true)
}

// configured reports whether the server info describes is one of the
// configured routes, by host:port or by the host of its "ip".
func configured(cfg *Config, info *Info) bool {
	port := strconv.Itoa(info.Port)
	one := strings.ToLower(net.JoinHostPort(info.Host, port))
	two := ""
	if u, err := url.Parse(info.IP); err == nil && u.Hostname() != "" {
		two = strings.ToLower(net.JoinHostPort(u.Hostname(), port))
	}
	for _, r := range cfg.Routes {
		h := strings.ToLower(r.Host)
		if h == one || (two != "" && h == two) {
			return true
		}
	}
	return false
}

// closedRoute takes a Closed route out of the cluster, counts its close
// reason and decides whether to reconnect, as nats-server's reconnect does.
func (c *Cluster) closedRoute(r *Route, from State) {
	cfg := c.config()
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.routes, r.rid)
	if from != Closing {
		return // a dialler that gave up or was cancelled
	}
	if reason := r.Reason(); int(reason) < len(c.closedBy) {
		c.closedBy[reason].Add(1)
	}
	r.mu.Lock()
	noReconnect, self := r.noReconnect, r.self
	solicited, kind, u := r.solicited, r.kind, r.url
	retryImplicit := r.retry || (r.solicited && r.kind == Implicit)
	id := r.remoteID
	r.mu.Unlock()
	if c.stopping || noReconnect || self || u == nil || !(solicited || retryImplicit) {
		return
	}
	if id != "" && c.remotes[id] != nil {
		if solicited {
			o := c.remotes[id]
			o.mu.Lock()
			if !o.solicited || (kind == Explicit && o.kind != Explicit) {
				o.url = u
			}
			o.solicited = true
			if kind == Explicit {
				o.kind = Explicit
			}
			o.mu.Unlock()
		}
		c.log.Debugf("Not attempting reconnect for solicited route, already connected to %q", id)
		return
	}
	if id == cfg.Server.ID {
		return
	}
	if kind == Explicit && !hasRoute(cfg, u) {
		return
	}
	if kind != Implicit || retryImplicit {
		delay := time.Duration(rand.Int64N(int64(reconnectJitter)))
		if kind == Explicit {
			delay += DefaultReconnectDelay
		}
		c.log.Debugf("Attempting reconnect for solicited route %q", redacted(u))
		c.solicitLocked(u, kind, gossipDefault, delay, false)
	}
}

// hasRoute reports whether u is one of the configured routes.
func hasRoute(cfg *Config, u *url.URL) bool {
	for _, r := range cfg.Routes {
		if sameURL(r, u) {
			return true
		}
	}
	return false
}

// isStopping reports whether StopAccepting was called.
func (c *Cluster) isStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

// isSelf reports whether host:port is this server's own route listener.
func (c *Cluster) isSelf(hostport string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.self[strings.ToLower(hostport)]
}

// EnterLameDuck sends every active route this server's INFO with
// "ldm":true, so the other servers stop advertising its client URLs. The
// routes stay up until shutdown.
func (c *Cluster) EnterLameDuck() {
	info := c.config().localInfo(gossipDefault, true)
	line := infoLine(&info)
	for _, r := range c.active() {
		r.queue(line)
	}
}

// active returns the registered routes.
func (c *Cluster) active() []*Route {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Route, 0, len(c.remotes))
	for _, r := range c.remotes {
		out = append(out, r)
	}
	return out
}

// all returns every route not yet Closed.
func (c *Cluster) all() []*Route {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Route, 0, len(c.routes))
	for _, r := range c.routes {
		out = append(out, r)
	}
	return out
}

// StopAccepting stops taking new routes: the route listener closes,
// pending dials are cancelled and nothing reconnects. Routes that are up
// stay up, so a shutdown can close them after the clients.
func (c *Cluster) StopAccepting() {
	c.mu.Lock()
	c.stopping = true
	ln := c.ln
	c.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for _, r := range c.all() {
		r.fire(EventCancel, "server shutdown")
	}
}

// Shutdown closes every route with ServerShutdown, flushing what each has
// queued, and waits for the route goroutines until ctx ends; then it closes
// the rest without flushing and waits for them. It calls StopAccepting
// first if that was not done.
func (c *Cluster) Shutdown(ctx context.Context) {
	c.StopAccepting()
	for _, r := range c.all() {
		r.Close(conn.ServerShutdown)
	}
	done := make(chan struct{})
	go func() {
		c.wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	forced := 0
	for _, r := range c.all() {
		r.abort()
		forced++
	}
	c.log.Warnf("Shutdown: %d route(s) closed without flushing", forced)
	<-done
}

func (c *Cluster) wait() {
	c.mu.Lock()
	ln := c.ln
	c.mu.Unlock()
	if ln != nil {
		ln.Wait()
	}
	c.wg.Wait()
}

// Reload applies a new configuration: routes no longer configured are
// closed with RouteRemoved (or their diallers cancelled) and not redialled;
// new ones are dialled. The other reloadable fields apply to what the
// routes do next (cluster TLS to the routes that connect afterwards: the
// routes up keep their TLS, or plain, connection, as in nats-server).
func (c *Cluster) Reload(cfg *Config) {
	old := c.config()
	c.cfg.Store(cfg)
	var removed, added []*url.URL
	for _, u := range old.Routes {
		if !hasRoute(cfg, u) {
			removed = append(removed, u)
		}
	}
	for _, u := range cfg.Routes {
		if !hasRoute(old, u) {
			added = append(added, u)
		}
	}
	for _, u := range removed {
		for _, r := range c.all() {
			r.mu.Lock()
			match := r.url != nil && sameURL(r.url, u) && (r.solicited || r.kind == Explicit)
			if match {
				r.noReconnect = true
			}
			r.mu.Unlock()
			if !match {
				continue
			}
			if !r.fire(EventCancel, "route removed") {
				r.Close(conn.RouteRemoved)
			}
			c.log.Infof("Removed route %s", redacted(u))
		}
	}
	c.mu.Lock()
	if !c.stopping {
		c.saveTLSNameLocked(added)
		for _, u := range added {
			c.solicitLocked(u, Explicit, gossipDefault, 0, true)
		}
	}
	c.mu.Unlock()
	if len(removed)+len(added) > 0 {
		c.log.Infof("Reloaded: cluster routes (%d added, %d removed)", len(added), len(removed))
	}
}

// tracing reports whether protocol lines are traced (-V).
func (c *Cluster) tracing() bool { return c.log.IsLevelEnabled(logrus.TraceLevel) }

// trace logs the lines of out, as nats-server traces route protocol.
func (c *Cluster) trace(r *Route, dir string, out []byte) {
	for len(out) > 0 {
		i := strings.Index(string(out), "\r\n")
		if i < 0 {
			i = len(out)
		}
		line := out[:i]
		if len(line) > 256 {
			line = append(line[:256:256], "..."...)
		}
		c.log.Tracef("%s - %s [%s]", r, dir, line)
		if i+2 > len(out) {
			break
		}
		out = out[i+2:]
	}
}

// traceOp logs one received operation.
func (c *Cluster) traceOp(r *Route, dir, op string, arg []byte) {
	if len(arg) > 0 {
		c.log.Tracef("%s - %s [%s %s]", r, dir, op, arg)
	} else {
		c.log.Tracef("%s - %s [%s]", r, dir, op)
	}
}

// String describes the cluster for logs.
func (c *Cluster) String() string { return fmt.Sprintf("cluster %q", c.config().Name) }
