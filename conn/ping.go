package conn

import (
	"time"
)

// pingTimerFired runs every ping_interval. A client that sent something
// within the interval is not pinged (as nats-server); otherwise it is sent a
// PING, and one with ping_max PINGs already unanswered is closed as stale.
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
	idle := time.Since(time.Unix(0, c.lastIn.Load()))
	if idle < interval && c.rtt != 0 {
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
	c.pingsOut++
	if c.rttStart == 0 {
		c.rttStart = time.Now().UnixNano()
	}
	c.out.append(pingProto)
	over := c.overPending()
	c.pingTmr = time.AfterFunc(interval, c.pingTimerFired)
	c.mu.Unlock()
	if over {
		c.Close(SlowConsumerPendingBytes)
		return
	}
	c.signal()
}
