package conn

import "math/rand/v2"

// Router is the cluster as the connections see it: where changes of
// interest go, and what carries a message published on this server to the
// other servers. The server sets [Shared.Router] before any connection or
// account exists when a cluster is configured (the route package's
// Router); without a cluster it stays nil, and a publish or a subscription
// change costs one nil check.
//
// Both methods are called without any connection's lock held. Forward runs
// on the producer's goroutine and must not block for long (it may ask the
// producer to wait on a stall gate instead, see [Outgoing.Stall]).
type Router interface {
	// InterestChanged is called after a subscription whose interest the
	// other servers need entered (delta +1) or left (delta -1) the index
	// of the account named acc: clients' subscriptions, the internal
	// subscriptions of stream imports and of service responses, and
	// internal subscriptions of non-socket clients. A service import's own
	// subscription is left out: a request published on another server is
	// imported there. Calls for one subscription come in the order of its
	// changes, but the -1 of a subscription removed at once by another
	// goroutine (auto-unsubscribe) may overtake its +1: the Router keeps a
	// signed count, and interest exists while it is above zero.
	InterestChanged(acc, subject, queue string, delta int)
	// Forward sends the message m to every route with interest in its
	// subject in its account, choosing for each queue group one member in
	// the whole cluster, and returns the number of routes it was sent to.
	// It is called only for messages of local producers (never for one
	// that came from a route: one hop).
	Forward(m *Outgoing) int
}

// Waker is output that a producer queues to during one read and wakes once
// at the end of it (a route's writer), as it does for the connections it
// delivered to.
type Waker interface{ Wake() }

// Outgoing is one message a local producer published, as [Router.Forward]
// sees it. It is the producer's scratch, reused for every message (so that
// handing it to Forward does not allocate); its slices are valid only
// during the call.
type Outgoing struct {
	Account        *Account
	Subject, Reply []byte
	// HdrLen is the size of the header at the start of Msg, -1 without
	// one. Msg holds header and payload, without the trailing CRLF.
	HdrLen int
	Msg    []byte
	// Queues are the queue groups of Account the subject matched on this
	// server. Forward sets Taken[i] (len(Taken) == len(Queues), all false
	// on entry) when it chose another server for Queues[i]: the producer
	// then skips that group locally.
	Queues [][]*Subscription
	Taken  []bool
	// Rand is the producer's random source for the queue-group choice.
	Rand *rand.Rand
	// Wake collects the route writers to wake at the end of the read.
	Wake *Wakers
	// Stall is set by Forward to a gate the producer should wait on
	// (within its stall budget) when a route's output is backed up; the
	// route's writer closes it after its next write.
	Stall <-chan struct{}
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
// the message, the queue groups the Router took, the route writers to
// wake at the end of the read.
type forwarding struct {
	m      Outgoing
	taken  []bool
	wakers Wakers
}

// toRoutes hands a message of a local producer, matched locally with the
// queue groups queues, to the Router and returns the number of routes it
// went to and the queue groups another server took (nil: none).
func (c *Conn) toRoutes(rt Router, acc *Account, queues [][]*Subscription, subj, reply []byte, hdrLen int, msg []byte, hops int) (int, []bool) {
	if c.fwd == nil {
		c.fwd = &forwarding{}
	}
	f := c.fwd
	m := &f.m
	m.Account, m.Subject, m.Reply, m.HdrLen, m.Msg = acc, subj, reply, hdrLen, msg
	m.Queues, m.Taken, m.Stall = queues, nil, nil
	if len(queues) > 0 {
		if hops == 0 {
			// The first level reuses the scratch; an import's level (run
			// inside the first level's delivery, which still reads its
			// slice) gets its own.
			if cap(f.taken) < len(queues) {
				f.taken = make([]bool, len(queues))
			}
			m.Taken = f.taken[:len(queues)]
			clear(m.Taken)
		} else {
			m.Taken = make([]bool, len(queues))
		}
	}
	m.Rand = c.rand()
	m.Wake = &f.wakers
	sent := rt.Forward(m)
	taken, stall := m.Taken, m.Stall
	m.Account, m.Subject, m.Reply, m.Msg, m.Queues, m.Taken, m.Stall = nil, nil, nil, nil, nil, nil, nil
	if stall != nil {
		c.flushPending()
		c.stallWait(stall, stallMin)
	}
	if sent == 0 {
		return 0, nil
	}
	return sent, taken
}
