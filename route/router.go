package route

import (
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/conn/subject"
	"github.com/sirupsen/logrus"
)

// Router moves interest and messages between this server's accounts and
// its routes; it is the [conn.Router] of a server in a cluster.
//
//   - Local interest: it counts the local subscriptions per (account,
//     subject, queue) and tells every active route of each change in
//     order: RS+ when plain interest appears, RS- when it goes; RS+ with
//     the new weight (the number of local members) at every change of a
//     queue group, RS- when it is empty. A route that becomes active first
//     gets the whole table.
//   - Remote interest: per account name, an index of what each route's
//     server asked for (RS+/RS-, a queue group with its weight), dropped
//     when the route closes.
//   - Forwarding: a local producer's message goes to every route with
//     interest, once, listing the queue groups that server was chosen for
//     (one member per group in the whole cluster, weighted like
//     nats-server: a local member weighs 1, a route its RS+ weight); a
//     group whose chosen local members all failed goes to a member on
//     another server instead.
//   - Delivery: a route's messages are handed to a [conn.Producer] of its
//     own, which delivers to local subscribers; only a listed queue group
//     with no local member left to take it goes on to another server.
type Router struct {
	sh  *conn.Shared // nil: messages from routes are dropped (tests)
	log *logrus.Logger

	// mu guards local and routes. It is held while interest lines are
	// queued to the routes, so that every route sees the changes in the
	// order they were counted. Lock order: a route's fire lock, mu, a
	// route's mu.
	mu     sync.Mutex
	local  map[localKey]int32
	routes map[*Route]struct{}

	// remote maps an account name to the index of the routes' interest in
	// it. The map is copied on write (under remoteMu) so the publish path
	// reads it without a lock.
	remoteMu sync.Mutex
	remote   atomic.Pointer[map[string]*subject.Index[*remoteSub]]
}

// localKey is one local interest: (account, subject, queue).
type localKey struct {
	account, subject, queue string
}

// remoteSub is one interest of a route's server, an item of the remote
// index. Its weight (queue groups: the members there) changes in place.
type remoteSub struct {
	r      *Route
	queue  string
	weight atomic.Int32
}

// NewRouter returns a router that delivers the routes' messages into the
// accounts of sh (nil: it drops them).
func NewRouter(sh *conn.Shared, log *logrus.Logger) *Router {
	rt := &Router{sh: sh, log: log, local: make(map[localKey]int32), routes: make(map[*Route]struct{})}
	m := make(map[string]*subject.Index[*remoteSub])
	rt.remote.Store(&m)
	return rt
}

// InterestChanged counts a change of local interest and tells the active
// routes when it is one they must know of. It implements [conn.Router].
func (rt *Router) InterestChanged(acc, subj, queue string, delta int) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	k := localKey{acc, subj, queue}
	old := rt.local[k]
	n := old + int32(delta)
	if n == 0 {
		delete(rt.local, k)
	} else {
		rt.local[k] = n
	}
	var line []byte
	switch {
	case old <= 0 && n <= 0:
	case n <= 0:
		line = unsubLine(k)
	case queue != "" || old <= 0:
		line = subLine(nil, k, n)
	}
	if line == nil {
		return
	}
	for r := range rt.routes {
		r.queue(line)
	}
}

// subLine appends "RS+ <account> <subject>[ <queue> <weight>]\r\n" to b.
func subLine(b []byte, k localKey, weight int32) []byte {
	b = append(b, "RS+ "...)
	b = append(b, k.account...)
	b = append(b, ' ')
	b = append(b, k.subject...)
	if k.queue != "" {
		b = append(b, ' ')
		b = append(b, k.queue...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(weight), 10)
	}
	return append(b, "\r\n"...)
}

// unsubLine is "RS- <account> <subject>[ <queue>]\r\n".
func unsubLine(k localKey) []byte {
	b := make([]byte, 0, len(k.account)+len(k.subject)+len(k.queue)+8)
	b = append(b, "RS- "...)
	b = append(b, k.account...)
	b = append(b, ' ')
	b = append(b, k.subject...)
	if k.queue != "" {
		b = append(b, ' ')
		b = append(b, k.queue...)
	}
	return append(b, "\r\n"...)
}

// attach sends r the whole local interest and, from then on, every change
// of it (enter_active).
func (rt *Router) attach(r *Route) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var b []byte
	for k, n := range rt.local {
		if n > 0 {
			b = subLine(b, k, n)
		}
	}
	if len(b) > 0 {
		r.queue(b)
	}
	rt.routes[r] = struct{}{}
}

// detach stops sending r interest and drops the interest its server had
// (enter_closing). It is idempotent.
func (rt *Router) detach(r *Route) {
	rt.mu.Lock()
	delete(rt.routes, r)
	rt.mu.Unlock()
	r.mu.Lock()
	interest := r.interest
	r.interest = nil
	r.mu.Unlock()
	n := 0
	for k, rs := range interest {
		if ix := rt.remoteIndex(k.account); ix != nil && ix.Remove(k.subject, k.queue, rs) == nil {
			n++
		}
	}
	if n > 0 {
		rt.log.Debugf("%s - Removed %d remote subscription(s)", r, n)
	}
}

// remoteIndex returns the routes' interest in account acc, or nil.
func (rt *Router) remoteIndex(acc string) *subject.Index[*remoteSub] {
	return (*rt.remote.Load())[acc]
}

// remoteIndexFor returns the routes' interest in account acc, made if
// need be.
func (rt *Router) remoteIndexFor(acc string) *subject.Index[*remoteSub] {
	if ix := rt.remoteIndex(acc); ix != nil {
		return ix
	}
	rt.remoteMu.Lock()
	defer rt.remoteMu.Unlock()
	cur := *rt.remote.Load()
	if ix := cur[acc]; ix != nil {
		return ix
	}
	next := make(map[string]*subject.Index[*remoteSub], len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	ix := subject.NewIndex[*remoteSub]()
	next[acc] = ix
	rt.remote.Store(&next)
	return ix
}

// pick is one queue group given to a route: by Plan for the group
// m.Queues[local], by Send for a fallback (local -1).
type pick struct {
	r     *Route
	queue string
	local int
}

// plan is what Plan decided for one message, kept in the producer's
// Outgoing until Send.
type plan struct {
	res     *subject.Result[*remoteSub] // the routes' interest in the subject; nil: not matched yet
	targets []*Route                    // the routes the message goes to, once each
	picks   []pick
}

// planOf returns the plan kept in m, made on first use.
func planOf(m *conn.Outgoing) *plan {
	p, _ := m.RouterState.(*plan)
	if p == nil {
		p = &plan{}
		m.RouterState = p
	}
	return p
}

// Plan finds the routes with interest in a local producer's message and
// chooses the members of its queue groups; it implements [conn.Router].
//
// For every queue group with members on other servers one member is
// chosen in the whole cluster: with L local members and routes of weights
// w1…wn, a route i is chosen with chance wi/(L+Σw), this server otherwise
// (m.Taken stays false and the producer delivers to a local member). A
// route is to get one message listing the groups it was chosen for, and
// only when it has plain interest or was chosen for a group.
func (rt *Router) Plan(m *conn.Outgoing) bool {
	ix := rt.remoteIndex(m.Account.Name())
	if ix == nil {
		return false
	}
	res := ix.Match(bytesToString(m.Subject))
	if res.Empty() {
		return false
	}
	p := planOf(m)
	p.res = res
	for _, s := range res.Plain {
		p.targets = addTarget(p.targets, s.r)
	}
	for _, g := range res.Queues {
		name := g[0].queue
		var total int64
		for _, s := range g {
			total += int64(max(s.weight.Load(), 1))
		}
		local := -1
		for i, lg := range m.Queues {
			if len(lg) > 0 && lg[0].Queue() == name {
				local = i
				break
			}
		}
		n := total
		if local >= 0 {
			n += int64(len(m.Queues[local]))
		}
		x := m.Rand.Int64N(n)
		if x >= total {
			continue // a local member
		}
		chosen := choose(g, x)
		p.targets = addTarget(p.targets, chosen)
		p.picks = append(p.picks, pick{chosen, name, local})
		if local >= 0 {
			m.Taken[local] = true
		}
	}
	return true
}

// choose returns the route of group g that the draw x (in [0, Σweights))
// falls on.
func choose(g []*remoteSub, x int64) *Route {
	for _, s := range g {
		if x -= int64(max(s.weight.Load(), 1)); x < 0 {
			return s.r
		}
	}
	return g[len(g)-1].r
}

// Send sends a message to the routes Plan chose, and each queue group of
// m.Fallback to one member on another server (chosen by weight, as
// Plan's choice); it implements [conn.Router]. Each route gets one RMSG
// (HMSG) naming the groups it was given. A route found closing gives its
// groups back to the producer (m.Returned); a fallback it was given is
// lost, as no local member could take it either.
func (rt *Router) Send(m *conn.Outgoing) int {
	p := planOf(m)
	defer p.reset()
	if len(m.Fallback) > 0 {
		if p.res == nil {
			if ix := rt.remoteIndex(m.Account.Name()); ix != nil {
				p.res = ix.Match(bytesToString(m.Subject))
			}
		}
		if p.res != nil {
			for _, name := range m.Fallback {
				for _, g := range p.res.Queues {
					if g[0].queue != name {
						continue
					}
					var total int64
					for _, s := range g {
						total += int64(max(s.weight.Load(), 1))
					}
					chosen := choose(g, m.Rand.Int64N(total))
					p.targets = addTarget(p.targets, chosen)
					p.picks = append(p.picks, pick{chosen, name, -1})
					break
				}
			}
		}
	}
	sent := 0
	var qbuf [8]string
	for _, r := range p.targets {
		qs := qbuf[:0]
		for _, pk := range p.picks {
			if pk.r == r {
				qs = append(qs, pk.queue)
			}
		}
		if r.sendMsg(m, qs) {
			sent++
			continue
		}
		for _, pk := range p.picks {
			if pk.r == r && pk.local >= 0 {
				m.Returned = append(m.Returned, pk.local)
			}
		}
	}
	return sent
}

// reset forgets the message, keeping the storage.
func (p *plan) reset() {
	p.res = nil
	clear(p.targets)
	p.targets = p.targets[:0]
	clear(p.picks)
	p.picks = p.picks[:0]
}

// addTarget adds r to the routes a message goes to, once.
func addTarget(ts []*Route, r *Route) []*Route {
	for _, t := range ts {
		if t == r {
			return ts
		}
	}
	return append(ts, r)
}

// bytesToString views b as a string without copying, for lookups that do
// not keep the string.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
