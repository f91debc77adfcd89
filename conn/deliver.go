package conn

import (
	"math/rand/v2"
	"strconv"
	"time"
	"unsafe"
)

// publish delivers one message, in the publisher's account, to every
// matching plain subscription and to one member of each matching queue
// group (imports forward it to other accounts), then answers a request
// nobody received with the 503 no-responders status when the client asked
// for it. It runs on the publisher's reader goroutine.
func (c *Conn) publish(subj, reply []byte, hdrLen int, msg []byte) {
	if hdrLen == 0 {
		// An HPUB with an empty header carries no header: nats-server
		// delivers it as a MSG.
		hdrLen = -1
	}
	delivered := c.deliverIn(c.auth.acc, subj, reply, hdrLen, msg, 0, true)
	if delivered > 0 {
		c.readOut += int64(delivered)
		c.readOutBytes += int64(delivered * len(msg))
		return
	}
	if len(reply) > 0 && c.opts.NoResponders {
		c.noResponders(subj, reply)
	}
}

// deliverIn delivers a message published (or forwarded, after hops
// imports) in account acc to its matching subscriptions and returns the
// number of deliveries. With toRoutes, a local producer's message also
// goes to the routes with interest (counted once per route): a queue group
// another server was chosen for is skipped here, and one whose local
// members all failed goes to another server's member.
func (c *Conn) deliverIn(acc *Account, subj, reply []byte, hdrLen int, msg []byte, hops int, toRoutes bool) int {
	r := acc.Index.Match(bytesToString(subj))
	delivered := 0
	rt := c.sh.Router
	var m *Outgoing
	if rt != nil && toRoutes && !c.fromRoute {
		m = c.planRoutes(rt, acc, r.Queues, subj, reply, hdrLen, msg, hops)
	}
	for _, s := range r.Plain {
		if s.imp != nil {
			delivered += c.forward(s.imp, subj, reply, hdrLen, msg, hops)
			continue
		}
		if c.deliver(s, subj, reply, hdrLen, msg) {
			delivered++
		}
	}
	for i, group := range r.Queues {
		if m != nil && m.Taken[i] {
			continue
		}
		if c.deliverQueue(group, subj, reply, hdrLen, msg, hops) {
			delivered++
		} else if m != nil {
			m.Fallback = append(m.Fallback, group[0].queue)
		}
	}
	if m != nil {
		delivered += c.sendRoutes(rt, m, hops)
	}
	return delivered
}

// deliverQueue delivers a message to one member of a queue group, starting
// at a random member and going on to the next while a delivery fails. A
// member may be a shadow (a subscription of an importing account), which
// takes no message that already crossed an import.
func (c *Conn) deliverQueue(group []*Subscription, subj, reply []byte, hdrLen int, msg []byte, hops int) bool {
	if len(group) == 0 {
		return false
	}
	start := 0
	if len(group) > 1 {
		start = c.pick(len(group))
	}
	for i := range group {
		s := group[(start+i)%len(group)]
		if s.imp != nil {
			if c.forward(s.imp, subj, reply, hdrLen, msg, hops) > 0 {
				return true
			}
			continue
		}
		if c.deliver(s, subj, reply, hdrLen, msg) {
			return true
		}
	}
	return false
}

// deliver queues one MSG (or HMSG) for subscription s and reports whether it
// did. It honours echo, the subscription's auto-unsubscribe limit, the
// receiver's headers option and its max_pending limit.
func (c *Conn) deliver(s *Subscription, subj, reply []byte, hdrLen int, msg []byte) bool {
	d := s.conn
	if d == c && !c.opts.Echo {
		return false
	}
	if s.filter.Load() && s.deliveryDenied(subj) {
		return false
	}
	max := s.max.Load()
	n := s.delivered.Add(1)
	if max > 0 && n > max {
		return false
	}

	d.mu.Lock()
	if d.State() != Open {
		d.mu.Unlock()
		return false
	}
	if gate := d.out.stall; gate != nil && d != c {
		// The receiver is falling behind: wait a little for its writer,
		// so that a fast producer is slowed down before the receiver is
		// closed as a slow consumer. First wake the writers of everyone
		// else this read already queued to: their messages must not wait
		// out this producer's stall (they would until the end of the read,
		// up to stallTotal later).
		ttl := stallMin
		if d.out.pending() >= d.lim().MaxPending {
			ttl = stallMax
		}
		d.mu.Unlock()
		d.signal()
		c.flushPending()
		c.stallWait(gate, ttl)
		d.mu.Lock()
		if d.State() != Open {
			d.mu.Unlock()
			return false
		}
	}
	if hdrLen >= 0 && !d.opts.Headers {
		// A client that did not declare headers gets the payload alone.
		msg = msg[hdrLen:]
		hdrLen = -1
	}
	// The control line is formatted on the stack, then queued with the
	// payload; a long subject or reply moves it to the heap.
	var line [128]byte
	b := line[:0]
	if hdrLen >= 0 {
		b = append(b, "HMSG "...)
	} else {
		b = append(b, "MSG "...)
	}
	b = append(b, subj...)
	b = append(b, ' ')
	b = append(b, s.sid...)
	b = append(b, ' ')
	if len(reply) > 0 {
		b = append(b, reply...)
		b = append(b, ' ')
	}
	if hdrLen >= 0 {
		b = strconv.AppendInt(b, int64(hdrLen), 10)
		b = append(b, ' ')
	}
	b = strconv.AppendInt(b, int64(len(msg)), 10)
	var traced string
	if d.tracing() {
		traced = string(b)
	}
	b = append(b, "\r\n"...)
	d.out.append(b)
	d.out.append(msg)
	d.out.append(crlf)
	if len(reply) > 0 {
		d.trackReplyLocked(reply)
	}
	queued := d.out.pb
	mp := d.lim().MaxPending
	over := mp > 0 && d.out.pending() > mp
	if !over && mp > 0 && d.out.stall == nil && d.out.pending() > mp/4*3 {
		d.out.stall = make(chan struct{})
	}
	d.mu.Unlock()
	if traced != "" {
		d.traceOut(traced)
		d.tracePayload("->>", msg)
	}

	d.outMsgs.Add(1)
	d.outBytes.Add(int64(len(msg)))
	if over {
		d.closeOverPending()
		return true
	}
	if d == c {
		c.pcdAdd(d)
	} else if queued >= flushNowBytes {
		// Do not let a busy subscriber's buffer grow for a whole read batch.
		d.signal()
	} else {
		c.pcdAdd(d)
	}
	if max > 0 && n == max {
		d.unsubscribe(s)
	}
	return true
}

// pick returns a random queue member index in [0, n).
func (c *Conn) pick(n int) int { return c.rand().IntN(n) }

// rand returns the connection's own random source, seeded once from
// [Shared.Rand] (or at random without one). Only the reader goroutine
// calls it, so the source needs no lock.
func (c *Conn) rand() *rand.Rand {
	if c.rnd == nil {
		if c.sh.Rand != nil {
			c.rnd = rand.New(rand.NewPCG(c.sh.Rand.Uint64(), c.sh.Rand.Uint64()))
		} else {
			c.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		}
	}
	return c.rnd
}

var crlf = []byte("\r\n")

// Fast-producer stall, as nats-server's: a publisher whose receiver has
// more than three quarters of max_pending queued waits up to stallMin
// (stallMax once the receiver is at max_pending) for the receiver's writer,
// and at most stallTotal per read of its own input.
const (
	stallMin   = 2 * time.Millisecond
	stallMax   = 5 * time.Millisecond
	stallTotal = 10 * time.Millisecond
)

// stallWait waits on a receiver's stall gate for at most ttl, within what
// is left of this read's stall budget. Only the publisher's reader calls it.
func (c *Conn) stallWait(gate <-chan struct{}, ttl time.Duration) {
	ttl = min(ttl, stallTotal-c.stalled)
	if ttl <= 0 {
		return
	}
	start := time.Now()
	t := time.NewTimer(ttl)
	select {
	case <-gate:
	case <-t.C:
	}
	t.Stop()
	c.stalled += time.Since(start)
}

// flushNowBytes is the queued size at which a publisher wakes a subscriber's
// writer at once instead of at the end of its read batch.
const flushNowBytes = 64 * 1024

// noResponders sends the requester the 503 status on its own subscription
// for the reply subject, as nats-server does, so the client library can
// fail the request at once.
func (c *Conn) noResponders(subj, reply []byte) {
	var sid string
	for _, s := range c.auth.acc.Index.Match(bytesToString(reply)).Plain {
		if s.conn == c {
			sid = s.sid
			break
		}
	}
	if sid == "" {
		return
	}
	hdr := "NATS/1.0 503\r\nNats-Subject: " + string(subj) + "\r\n\r\n"
	b := make([]byte, 0, 64+len(reply)+len(sid)+len(hdr))
	b = append(b, "HMSG "...)
	b = append(b, reply...)
	b = append(b, ' ')
	b = append(b, sid...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(hdr)), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(hdr)), 10)
	b = append(b, "\r\n"...)
	b = append(b, hdr...)
	b = append(b, "\r\n"...)
	c.queue(b)
	c.pcdAdd(c)
}

// bytesToString views b as a string without copying, for lookups that do
// not keep the string.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
