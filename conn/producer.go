package conn

import "errors"

// Producer puts messages into the server's accounts for something that is
// not a client connection: a route's reader (messages from another server
// of the cluster) or an internal client (the system account's services).
// Its deliveries behave as a client's: the same matching, queue-group
// choice, imports, headers rule, fast-producer stall and slow-consumer
// limit, and output to subscribers is batched until [Producer.Flush].
//
// A Producer belongs to one goroutine at a time (it keeps the per-read
// state a client's reader keeps); guard it with a lock, or make one per
// goroutine, to publish from several.
type Producer struct {
	c Conn
}

// NewProducer returns a producer for the server of sh. fromRoute marks the
// producer of a route: what it delivers never goes to another route (one
// hop), and [Producer.Publish] is not for it.
func NewProducer(sh *Shared, fromRoute bool) *Producer {
	p := &Producer{}
	p.c.sh = sh
	p.c.cfg = &Config{}
	p.c.opts = connectOpts{Echo: true, Headers: true}
	p.c.fromRoute = fromRoute
	p.c.wake.L = &p.c.mu
	return p
}

// Account returns the server's account named name, or nil.
func (p *Producer) Account(name string) *Account { return p.c.sh.accounts().Lookup(name) }

// Publish delivers a message in account acc as a client's publish there
// would: to the local subscribers (through the imports), and to the routes
// with interest (the queue groups chosen cluster-wide). hdrLen is the size
// of the header at the start of msg, -1 without one. It returns the number
// of deliveries (a route counts once). The slices are not retained. The
// receivers' writers are woken by [Producer.Flush]: call it after each
// message or batch. It is not counted as a client's input in the server's
// counters (its deliveries are).
func (p *Producer) Publish(acc *Account, subj, reply []byte, hdrLen int, msg []byte) int {
	if hdrLen == 0 {
		hdrLen = -1
	}
	n := p.c.deliverIn(acc, subj, reply, hdrLen, msg, 0, true)
	p.c.readOut += int64(n)
	p.c.readOutBytes += int64(n * len(msg))
	return n
}

// ErrUnknownAccount is returned by [Producer.DeliverRouted] for a message
// of an account this server does not have; it is dropped, as nats-server
// drops it with a static account resolver.
var ErrUnknownAccount = errors.New("unknown account")

// DeliverRouted delivers a message another server sent (RMSG or HMSG) in
// the account named account: to every matching plain subscription (and
// through the imports), and to exactly one local member of each queue
// group in queues, the groups the sending server chose this one for. A
// listed group of which no local member took it (none left, or all
// failed) goes on to a member on another server, as nats-server passes it
// on; nothing else goes to a route. It returns the number of deliveries
// (a route counts once).
func (p *Producer) DeliverRouted(account, subj, reply []byte, hdrLen int, msg []byte, queues [][]byte) (int, error) {
	c := &p.c
	c.readIn++
	c.readInBytes += int64(len(msg))
	acc := c.sh.accounts().Lookup(bytesToString(account))
	if acc == nil {
		return 0, ErrUnknownAccount
	}
	if hdrLen == 0 {
		hdrLen = -1
	}
	r := acc.Index.Match(bytesToString(subj))
	delivered := 0
	for _, s := range r.Plain {
		if s.imp != nil {
			delivered += c.forward(s.imp, subj, reply, hdrLen, msg, 0)
			continue
		}
		if c.deliver(s, subj, reply, hdrLen, msg) {
			delivered++
		}
	}
	var m *Outgoing
	for i, q := range queues {
		if listed(queues[:i], bytesToString(q)) {
			continue
		}
		if group := groupNamed(r.Queues, q); group != nil && c.deliverQueue(group, subj, reply, hdrLen, msg, 0) {
			delivered++
			continue
		}
		if c.sh.Router == nil {
			continue
		}
		if m == nil {
			m = c.outgoing(acc, subj, reply, hdrLen, msg, 0)
		}
		m.Fallback = append(m.Fallback, string(q))
	}
	if m != nil {
		delivered += c.sendRoutes(c.sh.Router, m, 0)
	}
	c.readOut += int64(delivered)
	c.readOutBytes += int64(delivered * len(msg))
	return delivered, nil
}

// listed reports whether name is one of names.
func listed(names [][]byte, name string) bool {
	for _, n := range names {
		if string(n) == name {
			return true
		}
	}
	return false
}

// groupNamed returns the queue group of r named name, or nil.
func groupNamed(groups [][]*Subscription, name []byte) []*Subscription {
	for _, g := range groups {
		if len(g) > 0 && g[0].queue == string(name) {
			return g
		}
	}
	return nil
}

// Flush ends a batch (one read of a route): it wakes the writers of every
// connection and route the batch queued output to, adds the batch's
// counts to the server's and starts a new stall budget.
func (p *Producer) Flush() {
	p.c.addReadCounts()
	p.c.flushPending()
	p.c.stalled = 0
}
