package route

import (
	"strconv"
	"sync/atomic"

	"github.com/natsd/natsd/conn"
)

// flushNowBytes is the queued size at which a producer wakes a route's
// writer at once instead of at the end of its read.
const flushNowBytes = 64 * 1024

// sendMsg queues one message for the route as nats-server writes it:
//
//	RMSG <account> <subject> [<reply>] <size>
//	RMSG <account> <subject> + <reply> <queue>… <size>
//	RMSG <account> <subject> | <queue>… <size>
//
// (HMSG with the header size before the size), queues being the groups
// this route's server was chosen for. A server that does not support
// headers gets the payload alone in an RMSG. It reports false, queuing
// nothing, when the route is not active. The route's writer is woken at
// the end of the producer's read (m.Wake), or at once when much is
// queued; a route whose output is backed up hands the producer its stall
// gate (m.Stall), and one over max_pending is closed as a slow consumer.
func (r *Route) sendMsg(m *conn.Outgoing, queues []string) bool {
	hdr, msg := m.HdrLen, m.Msg
	maxPending := r.cl.maxPending()
	r.mu.Lock()
	if r.State() != Active {
		r.mu.Unlock()
		return false
	}
	if hdr >= 0 && !r.remote.Headers {
		msg, hdr = msg[hdr:], -1
	}
	b := r.out
	start := len(b)
	if hdr >= 0 {
		b = append(b, "HMSG "...)
	} else {
		b = append(b, "RMSG "...)
	}
	b = append(b, m.Account.Name()...)
	b = append(b, ' ')
	b = append(b, m.Subject...)
	switch {
	case len(queues) > 0 && len(m.Reply) > 0:
		b = append(b, " + "...)
		b = append(b, m.Reply...)
	case len(queues) > 0:
		b = append(b, " |"...)
	case len(m.Reply) > 0:
		b = append(b, ' ')
		b = append(b, m.Reply...)
	}
	for _, q := range queues {
		b = append(b, ' ')
		b = append(b, q...)
	}
	if hdr >= 0 {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(hdr), 10)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(msg)), 10)
	lineEnd := len(b)
	b = append(b, "\r\n"...)
	b = append(b, msg...)
	b = append(b, "\r\n"...)
	r.out = b
	pending := int64(len(b))
	over := maxPending > 0 && pending > maxPending
	if !over && maxPending > 0 && r.stall == nil && pending > maxPending/4*3 {
		r.stall = make(chan struct{})
	}
	stall := r.stall
	var traced string
	if r.cl.tracing() {
		traced = string(b[start:lineEnd])
	}
	r.mu.Unlock()
	if traced != "" {
		r.cl.log.Tracef("%s - ->> [%s]", r, traced)
	}
	r.outMsgs.Add(1)
	r.outBytes.Add(int64(len(msg)))
	r.cl.out.add(len(msg))
	if over {
		r.recordReason(conn.SlowConsumerPendingBytes)
		r.cl.log.Errorf("%s - Slow Consumer Detected: MaxPending of %d Exceeded", r, maxPending)
		r.cl.goRoutine(func() { r.Close(conn.SlowConsumerPendingBytes) })
		return true
	}
	if pending >= flushNowBytes {
		r.Wake()
	} else {
		m.Wake.Add(r)
	}
	if stall != nil && m.Stall == nil {
		m.Stall = stall
	}
	return true
}

// Wake wakes the route's writer for what producers queued. It implements
// [conn.Waker].
func (r *Route) Wake() { r.wake.Signal() }

// openStall lets the producers waiting on the route's stall gate go on
// (after a write, and when the route closes). r.mu is held.
func (r *Route) openStall() {
	if r.stall != nil {
		close(r.stall)
		r.stall = nil
	}
}

// counter is a cluster-wide message and byte count.
type counter struct {
	msgs, bytes atomic.Int64
}

func (c *counter) add(n int) {
	c.msgs.Add(1)
	c.bytes.Add(int64(n))
}

// Counts returns the messages and payload bytes this server received from
// routes (in) and sent to routes (out), over every route it ever had.
func (c *Cluster) Counts() (inMsgs, inBytes, outMsgs, outBytes int64) {
	return c.in.msgs.Load(), c.in.bytes.Load(), c.out.msgs.Load(), c.out.bytes.Load()
}

// traceMsg logs a received RMSG or HMSG control line.
func (c *Cluster) traceMsg(r *Route, m *msgArgs) {
	op := "RMSG"
	if m.hdr >= 0 {
		op = "HMSG"
	}
	b := append([]byte(nil), m.account...)
	b = append(b, ' ')
	b = append(b, m.subject...)
	if len(m.reply) > 0 {
		b = append(b, ' ')
		b = append(b, m.reply...)
	}
	for _, q := range m.queues {
		b = append(b, ' ')
		b = append(b, q...)
	}
	if m.hdr >= 0 {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(m.hdr), 10)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(m.size), 10)
	c.traceOp(r, "<<-", op, b)
}
