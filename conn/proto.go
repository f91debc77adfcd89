package conn

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/natsd/natsd/conn/subject"
	"github.com/sirupsen/logrus"
)

// protoHandler is the connection seen as the parser's handler; its methods
// run on the reader goroutine.
type protoHandler Conn

var (
	pongProto = []byte("PONG\r\n")
	pingProto = []byte("PING\r\n")
	okProto   = []byte("+OK\r\n")
)

// OnConnect applies the client's CONNECT options.
func (h *protoHandler) OnConnect(arg []byte) error {
	c := (*Conn)(h)
	if c.tracing() {
		c.traceIn("CONNECT", arg)
	}
	c.mu.Lock()
	opts := c.opts
	c.mu.Unlock()
	if err := json.Unmarshal(arg, &opts); err != nil {
		return err
	}
	c.mu.Lock()
	c.opts = opts
	c.mu.Unlock()
	if err := c.authenticate(arg); err != nil {
		return err
	}
	if h := c.sh.OnConnect; h != nil {
		h(c)
	}
	c.connected()
	if opts.Protocol < 0 || opts.Protocol > 1 {
		c.sendErr("invalid client protocol")
		c.Close(BadClientProtocolVersion)
		return errClosed
	}
	if opts.NoResponders && !opts.Headers {
		c.sendErr("no responders requires headers support")
		c.Close(NoRespondersRequiresHeaders)
		return errClosed
	}
	if log := c.sh.Log; log != nil && log.IsLevelEnabled(logrus.DebugLevel) {
		log.Debugf("%s - cid:%d - Client connection created: name=%q lang=%q version=%q", c.hostPort(), c.cid, opts.Name, opts.Lang, opts.Version)
	}
	c.ok(opts.Verbose)
	return nil
}

// OnPing answers PONG.
func (h *protoHandler) OnPing() error {
	c := (*Conn)(h)
	if c.tracing() {
		c.traceIn("PING")
		c.traceOut("PONG")
	}
	c.queue(pongProto)
	c.pcdAdd(c)
	return nil
}

// OnPong clears the outstanding pings and measures the round trip.
func (h *protoHandler) OnPong() error {
	c := (*Conn)(h)
	if c.tracing() {
		c.traceIn("PONG")
	}
	c.ponged()
	return nil
}

// OnSub adds a subscription. The checks come in nats-server's order, and
// each refusal leaves the connection open: a queue name it refuses gets
// -ERR 'Invalid Subject'; a client holding max_subscriptions gets -ERR
// 'maximum subscriptions exceeded' (even for a SID already in use); a SID
// already in use is then ignored (+OK in verbose mode), whatever its
// subject; an invalid subject gets -ERR 'Invalid Subject'.
func (h *protoHandler) OnSub(subj, queue, sid []byte) error {
	c := (*Conn)(h)
	if c.tracing() {
		c.traceIn("SUB", subj, queue, sid)
	}
	s := &Subscription{conn: c}
	s.subject, s.queue, s.sid = ownStrings(subj, queue, sid)
	if queue != nil && !subject.ValidQueue(s.queue) {
		c.sendErr("Invalid Subject")
		c.pcdAdd(c)
		return nil
	}
	if c.subDenied(s) {
		return nil
	}
	// The subscriptions are released only once the reader (this
	// goroutine) has returned, so none is added after the release.
	c.subsMu.Lock()
	if c.State() != Open {
		c.subsMu.Unlock()
		return nil
	}
	if max := c.maxSubs(); max > 0 && len(c.subs) >= max {
		c.subsMu.Unlock()
		c.maxSubsExceeded()
		return nil
	}
	if _, dup := c.subs[s.sid]; dup {
		c.subsMu.Unlock()
		c.ok(c.verbose())
		return nil
	}
	if !subject.ValidSubject(s.subject) {
		c.subsMu.Unlock()
		c.sendErr("Invalid Subject")
		c.pcdAdd(c)
		return nil
	}
	if c.subs == nil {
		c.subs = make(map[string]*Subscription)
	}
	c.subs[s.sid] = s
	c.numSubs.Store(int64(len(c.subs)))
	c.subsMu.Unlock()
	if err := c.auth.acc.insert(s); err != nil {
		c.subsMu.Lock()
		delete(c.subs, s.sid)
		c.numSubs.Store(int64(len(c.subs)))
		c.subsMu.Unlock()
		c.sendErr("Invalid Subject")
		c.pcdAdd(c)
		return nil
	}
	c.ok(c.verbose())
	return nil
}

// ownStrings returns copies of a SUB's subject, queue and SID, all three
// in one allocation; queue is "" when nil.
func ownStrings(subj, queue, sid []byte) (string, string, string) {
	var buf [128]byte
	all := string(append(append(append(buf[:0], subj...), queue...), sid...))
	q := len(subj) + len(queue)
	return all[:len(subj)], all[len(subj):q], all[q:]
}

// maxSubsExceeded answers a SUB over max_subscriptions as nats-server
// does: the -ERR, and an error log line at most every maxSubsLogEvery for
// the server (nats-server: for the account).
func (c *Conn) maxSubsExceeded() {
	if log := c.sh.Log; log != nil {
		now := time.Now().UnixNano()
		last := c.sh.maxSubsLogged.Load()
		if now-last >= int64(maxSubsLogEvery) && c.sh.maxSubsLogged.CompareAndSwap(last, now) {
			log.Errorf("%s - cid:%d - maximum subscriptions exceeded", c.hostPort(), c.cid)
		}
	}
	c.sendErr("maximum subscriptions exceeded")
	c.pcdAdd(c)
}

// maxSubsLogEvery is how often at most a refused SUB is logged.
const maxSubsLogEvery = 2 * time.Second

// OnUnsub removes a subscription now, or after max messages in total.
func (h *protoHandler) OnUnsub(sid []byte, max int) error {
	c := (*Conn)(h)
	if c.tracing() {
		var m []byte
		if max > 0 {
			m = strconv.AppendInt(nil, int64(max), 10)
		}
		c.traceIn("UNSUB", sid, m)
	}
	c.subsMu.Lock()
	s := c.subs[string(sid)]
	c.subsMu.Unlock()
	if s != nil {
		if max > 0 {
			s.max.Store(int64(max))
		}
		if max <= 0 || s.delivered.Load() >= int64(max) {
			c.unsubscribe(s)
		}
	}
	c.ok(c.verbose())
	return nil
}

// unsubscribe removes s from the connection and the index, once.
func (c *Conn) unsubscribe(s *Subscription) {
	c.subsMu.Lock()
	cur, ok := c.subs[s.sid]
	if ok && cur == s {
		delete(c.subs, s.sid)
		c.numSubs.Store(int64(len(c.subs)))
	}
	c.subsMu.Unlock()
	if ok && cur == s {
		s.acc.remove(s)
	}
}

// OnPub routes a message to every matching subscription.
func (h *protoHandler) OnPub(subj, reply []byte, hdrLen int, msg []byte) error {
	c := (*Conn)(h)
	if c.tracing() {
		size := strconv.AppendInt(nil, int64(len(msg)), 10)
		if hdrLen >= 0 {
			c.traceIn("HPUB", subj, reply, strconv.AppendInt(nil, int64(hdrLen), 10), size)
		} else {
			c.traceIn("PUB", subj, reply, size)
		}
		c.tracePayload("<<-", msg)
	}
	c.readIn++
	c.readInBytes += int64(len(msg))
	if hdrLen >= 0 && !c.opts.Headers {
		// HPUB from a client that did not declare headers: nats-server closes
		// it as a protocol violation without an -ERR.
		c.Close(ProtocolViolation)
		return errClosed
	}
	if c.opts.Pedantic && !subject.ValidLiteralSubject(string(subj)) {
		c.sendErr("Invalid Publish Subject")
		c.pcdAdd(c)
	}
	if (len(reply) >= len(replyPrefix) || c.auth.perms.Load() != nil) && c.pubDenied(subj, reply) {
		return nil
	}
	// +OK goes before the deliveries, as in nats-server, so a client's own
	// echoed message follows it.
	c.ok(c.opts.Verbose)
	c.publish(subj, reply, hdrLen, msg)
	return nil
}

// verbose reports the client's verbose option. c.opts is written only by
// the reader goroutine, so the reader reads it without the lock.
func (c *Conn) verbose() bool { return c.opts.Verbose }

// ok queues +OK when the client asked for verbose mode.
func (c *Conn) ok(verbose bool) {
	if verbose {
		if c.tracing() {
			c.traceOut("+OK")
		}
		c.queue(okProto)
		c.pcdAdd(c)
	}
}

// pcdAdd remembers that d has output to flush at the end of this read batch.
// Only the reader goroutine calls it.
func (c *Conn) pcdAdd(d *Conn) {
	if c.pcd == nil {
		c.pcd = make(map[*Conn]struct{})
	}
	c.pcd[d] = struct{}{}
}
