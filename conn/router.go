package conn

import "math/rand/v2"

// Router is the cluster as the connections see it: where changes of
// interest go, and what carries a message published on this server to the
// other servers. The server sets [Shared.Router] before any connection or
// account exists when a cluster is configured (the route package's
// Router); without a cluster it stays nil, and a publish or a subscription
// change costs one nil check.
//
// Its methods are called without any connection's lock held. Plan and
// Send run on the producer's goroutine and must not block for long (Send
// may ask the producer to wait on a stall gate instead, see
// [Outgoing.Stall]).
type Router interface {
	// InterestChanged is called after a subscription whose interest the
	// other servers need entered (delta +1) or left (delta -1) the index
	// of the account named acc: clients' subscriptions, their shadows in
	// the accounts whose streams they import, the internal subscriptions
	// of service responses and of non-socket clients. A service import's
	// own subscription is left out: a request published on another server
	// is imported there. Calls for one subscription come in the order of
	// its changes, but the -1 of a subscription removed at once by another
	// goroutine (auto-unsubscribe) may overtake its +1: the Router keeps a
	// signed count, and interest exists while it is above zero.
	InterestChanged(acc, subject, queue string, delta int)
	// Plan is the first half of sending a local producer's message m to
	// the other servers: it finds the routes with interest in its subject
	// in its account and chooses, for each queue group, one member in the
	// whole cluster (setting m.Taken[i] when another server's member was
	// chosen for m.Queues[i]). It reads only m's Account, Subject, Queues,
	// Taken and Rand (the rest is filled in for Send). It returns false
	// when no other server has interest: there is nothing to send. It is
	// called only for messages of local producers (never for one that
	// came from a route: one hop).
	Plan(m *Outgoing) bool
	// Send is the second half, called once the producer delivered the
	// message locally: it sends the message to every route Plan chose,
	// once, listing the queue groups that server was chosen for, and gives
	// each group named in m.Fallback (every local member failed) to a
	// member on another server, if one has interest. It returns the number
	// of routes the message went to, and lists in m.Returned the groups
	// Plan took whose route was gone by then (the producer delivers those
	// locally). A route's producer calls Send without Plan, with Fallback
	// only: a message another server sent for a queue group this server
	// no longer has a member of goes on to a member elsewhere, as
	// nats-server does.
	Send(m *Outgoing) int
}

// Waker is output that a producer queues to during one read and wakes once
// at the end of it (a route's writer), as it does for the connections it
// delivered to.
type Waker interface{ Wake() }

// Outgoing is one message a producer hands the [Router], between
// [Router.Plan] and [Router.Send]. It is the producer's scratch, reused for
// every message (so that handing it over does not allocate); its slices
// are valid only until Send returns.
type Outgoing struct {
	Account        *Account
	Subject, Reply []byte
	// HdrLen is the size of the header at the start of Msg, -1 without
	// one. Msg holds header and payload, without the trailing CRLF.
	HdrLen int
	Msg    []byte
	// Queues are the queue groups of Account the subject matched on this
	// server. Plan sets Taken[i] (len(Taken) == len(Queues), all false on
	// entry) when it chose another server for Queues[i]: the producer then
	// skips that group locally.
	Queues [][]*Subscription
	Taken  []bool
	// Fallback names the queue groups the producer chose a local member of
	// (or, for a route's producer, that the sending server listed) and
	// could deliver to none of: Send gives each to another server's member.
	Fallback []string
	// Returned are set by Send: the indexes in Queues of the groups Plan
	// took whose route was gone.
	Returned []int
	// Rand is the producer's random source for the queue-group choice.
	Rand *rand.Rand
	// Wake collects the route writers to wake at the end of the read.
	Wake *Wakers
	// Stall is set by Send to a gate the producer should wait on
	// (within its stall budget) when a route's output is backed up; the
	// route's writer closes it after its next write.
	Stall <-chan struct{}
	// RouterState is the Router's own, kept from Plan to Send (and from
	// one message to the next, so that it is made once).
	RouterState any
}

// Wakers is the set of [Waker]s a producer queued output to during one
// read. It belongs to the producer's goroutine.
type Wakers struct{ w []Waker }

// Add remembers w, once.
func (ws *Wakers) Add(w Waker) {
	for _, x := range ws.w {
		if x == w {
			return
		}
	}
	ws.w = append(ws.w, w)
}

// wakeAll wakes every remembered Waker and forgets them.
func (ws *Wakers) wakeAll() {
	for i, w := range ws.w {
		w.Wake()
		ws.w[i] = nil
	}
	ws.w = ws.w[:0]
}

// routed reports whether the interest of s reaches the routes: every
// subscription but a service import's own.
func (s *Subscription) routed() bool {
	return s.imp == nil || s.imp.kind != hopService
}

// forwarding is a reader's scratch for the messages it hands the Router:
// one [Outgoing] per level of imports (a service import's delivery runs
// between its outer level's Plan and Send), and the route writers to wake
// at the end of the read.
type forwarding struct {
	level  [maxHops + 1]*routing
	wakers Wakers
}

// routing is the Outgoing of one level of imports, with the storage of its
// Taken.
type routing struct {
	m     Outgoing
	taken []bool
}

// outgoing returns the reader's Outgoing for a message at import level
// hops, with the message's fields filled in and nothing chosen.
func (c *Conn) outgoing(acc *Account, subj, reply []byte, hdrLen int, msg []byte, hops int) *Outgoing {
	l := c.routing(hops)
	m := &l.m
	m.Account, m.Subject, m.Queues, m.Taken = acc, subj, nil, nil
	m.Rand = c.rand()
	m.fill(reply, hdrLen, msg, &c.fwd.wakers)
	return m
}

// routing returns the reader's scratch for import level hops.
func (c *Conn) routing(hops int) *routing {
	if c.fwd == nil {
		c.fwd = &forwarding{}
	}
	l := c.fwd.level[hops]
	if l == nil {
		l = &routing{}
		c.fwd.level[hops] = l
	}
	return l
}

// fill sets what Send needs besides what Plan saw.
func (m *Outgoing) fill(reply []byte, hdrLen int, msg []byte, wake *Wakers) {
	m.Reply, m.HdrLen, m.Msg, m.Wake = reply, hdrLen, msg, wake
	m.Fallback, m.Returned, m.Stall = m.Fallback[:0], m.Returned[:0], nil
}

// planRoutes is [Router.Plan] for a local producer's message, matched
// locally with the queue groups queues, at import level hops. It returns
// nil when no other server has interest (the common case of a quiet
// cluster, kept short: only what Plan reads is filled in).
func (c *Conn) planRoutes(rt Router, acc *Account, queues [][]*Subscription, subj, reply []byte, hdrLen int, msg []byte, hops int) *Outgoing {
	l := c.routing(hops)
	m := &l.m
	m.Account, m.Subject, m.Queues = acc, subj, queues
	if len(queues) > 0 {
		if cap(l.taken) < len(queues) {
			l.taken = make([]bool, len(queues))
		}
		m.Taken = l.taken[:len(queues)]
		clear(m.Taken)
	} else {
		m.Taken = nil
	}
	m.Rand = c.rand()
	if !rt.Plan(m) {
		m.Account, m.Subject, m.Queues, m.Taken = nil, nil, nil, nil
		return nil
	}
	m.fill(reply, hdrLen, msg, &c.fwd.wakers)
	return m
}

// sendRoutes is [Router.Send] for m; it delivers locally the groups whose
// chosen route was gone, waits on a backed-up route's stall gate, and
// returns the number of deliveries (a route counts once).
func (c *Conn) sendRoutes(rt Router, m *Outgoing, hops int) int {
	n := rt.Send(m)
	for _, i := range m.Returned {
		if c.deliverQueue(m.Queues[i], m.Subject, m.Reply, m.HdrLen, m.Msg, hops) {
			n++
		}
	}
	stall := m.Stall
	m.release()
	if stall != nil {
		c.flushPending()
		c.stallWait(stall, stallMin)
	}
	return n
}

// release drops the message's slices, so that the scratch keeps nothing
// of it alive.
func (m *Outgoing) release() {
	m.Account, m.Subject, m.Reply, m.Msg, m.Queues, m.Taken, m.Stall = nil, nil, nil, nil, nil, nil, nil
	if len(m.Fallback) > 0 {
		clear(m.Fallback)
		m.Fallback = m.Fallback[:0]
	}
}
