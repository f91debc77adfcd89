package conn

import (
	"errors"
	"time"
)

// RTT timing, as nats-server's: the first PING after CONNECT goes out
// after at most firstPingInterval (plus up to a fifth of it at random, so
// that clients connecting together are not pinged together), and the RTT
// is measured again by a PING at least every rttEvery.
const (
	firstPingInterval = 2 * time.Second
	rttEvery          = time.Hour
)

// connected runs on the reader when the client's first CONNECT has been
// applied: it estimates the round trip as the time from accept to CONNECT
// (what nats-server reports until the first PONG) and brings the first
// PING forward, so that /connz shows a measured rtt within seconds rather
// than after a whole ping_interval.
func (c *Conn) connected() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rtt == 0 {
		c.rtt = sinceAtLeastNs(c.entered[Open].Load())
	}
	if c.pingTmr == nil || c.State() != Open {
		return
	}
	every := c.lim().PingInterval
	if every <= 0 {
		return
	}
	d := min(every, firstPingInterval)
	if j := int64(d / 5); j > 0 {
		d += time.Duration(c.rand().Int64N(j))
	}
	c.pingTmr.Stop()
	c.pingTmr = time.AfterFunc(d, c.pingTimerFired)
}

// pingTimerFired runs every ping_interval (the first time sooner, see
// [Conn.connected]). A client that sent something within the interval is
// not pinged (as nats-server), unless the RTT is due to be measured;
// otherwise it is sent a PING, and one with ping_max PINGs already
// unanswered is closed as stale.
func (c *Conn) pingTimerFired() {
	c.mu.Lock()
	if c.State() != Open {
		c.mu.Unlock()
		return
	}
	lim := c.lim()
	interval := lim.PingInterval
	if interval <= 0 {
		c.pingTmr = nil
		c.mu.Unlock()
		return
	}
	c.pingEvery = interval
	now := time.Now()
	idle := now.Sub(time.Unix(0, c.lastIn.Load()))
	needRTT := c.rtt == 0 || now.Sub(time.Unix(0, c.lastPing)) > rttEvery
	if idle < interval && !needRTT {
		c.pingTmr = time.AfterFunc(interval, c.pingTimerFired)
		c.mu.Unlock()
		return
	}
	if c.pingsOut+1 > lim.PingMax {
		c.mu.Unlock()
		c.sendErr("Stale Connection")
		c.Close(StaleConnection)
		return
	}
	onlyPings := c.pingsOut == 0 || c.out.added == c.pingMark
	c.pingsOut++
	c.lastPing = now.UnixNano()
	if c.rttStart == 0 {
		c.rttStart = c.lastPing
	}
	c.out.append(pingProto)
	if onlyPings {
		c.pingMark = c.out.added
	}
	over := c.overPending()
	c.pingTmr = time.AfterFunc(interval, c.pingTimerFired)
	c.mu.Unlock()
	if over {
		c.closeOverPending()
		return
	}
	c.flush()
}

// ponged runs on the reader for every PONG: the outstanding PINGs are
// answered, and the round trip of the oldest one is the new RTT.
func (c *Conn) ponged() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pingsOut = 0
	if c.rttStart != 0 {
		c.rtt = sinceAtLeastNs(c.rttStart)
		c.rttStart = 0
	}
}

// closingHandler is the connection seen as the parser's handler once it is
// closing: nothing the client sends is processed any more, but a PONG
// answers our PINGs, and once the final flush is done that ends the read
// (see [Conn.endRead]).
type closingHandler Conn

// errAnswered stops the closing connection's read: the client answered.
var errAnswered = errors.New("answered")

func (h *closingHandler) OnPong() error {
	c := (*Conn)(h)
	c.ponged()
	c.mu.Lock()
	done := c.flushed
	c.mu.Unlock()
	if done {
		return errAnswered
	}
	return nil
}

func (h *closingHandler) OnConnect([]byte) error                   { return nil }
func (h *closingHandler) OnPing() error                            { return nil }
func (h *closingHandler) OnSub(_, _, _ []byte) error               { return nil }
func (h *closingHandler) OnUnsub([]byte, int) error                { return nil }
func (h *closingHandler) OnPub(_, _ []byte, _ int, _ []byte) error { return nil }

// sinceAtLeastNs is the time since the unix-nanosecond time t, at least
// a nanosecond (a measured RTT is never 0, which means "not measured").
func sinceAtLeastNs(t int64) time.Duration {
	return max(time.Duration(time.Now().UnixNano()-t), time.Nanosecond)
}
