package conn

import (
	"time"
)

// Limits are the per-connection limits a reload can change. They are not
// kept per connection: every connection of a server reads the current ones
// from its [Shared] at each use (a delivery reads max_pending, a write the
// write deadline, a read the parser's limits), so [Shared.SetLimits]
// applies new limits to every open connection from the moment it returns,
// and no connection accepted while a reload runs can miss them.
//
// What each limit does to a connection already open, as nats-server does
// unless noted:
//   - MaxControlLine and MaxPayload: checked from the next read on (an op
//     whose control line was read before keeps the old limit).
//   - MaxPending: checked at the next byte queued. (nats-server refuses to
//     reload max_pending; natsd applies it to every connection.)
//   - MaxSubs: checked at the next SUB; subscriptions already made are kept
//     even above a lowered limit. (nats-server refuses to reload
//     max_subscriptions; issue 17 asks for it.)
//   - WriteDeadline: from the next write. (nats-server applies a reloaded
//     write_deadline only to connections accepted afterwards.)
//   - PingInterval: the ping timer is rescheduled at the new interval by
//     [Conn.LimitsChanged]; PingMax counts from the next timer.
type Limits struct {
	MaxControlLine int
	MaxPayload     int
	MaxPending     int64
	// MaxSubs is the most subscriptions one connection may hold (0 or
	// less: unlimited).
	MaxSubs       int
	WriteDeadline time.Duration
	PingInterval  time.Duration
	PingMax       int
}

// limitsOf returns the reloadable limits of cfg.
func limitsOf(cfg *Config) *Limits {
	return &Limits{
		MaxControlLine: cfg.MaxControlLine,
		MaxPayload:     cfg.MaxPayload,
		MaxPending:     cfg.MaxPending,
		MaxSubs:        cfg.MaxSubs,
		WriteDeadline:  cfg.WriteDeadline,
		PingInterval:   cfg.PingInterval,
		PingMax:        cfg.PingMax,
	}
}

// SetLimits makes cfg's limits (see [Limits]) those of every connection
// sharing sh, open or new. Call [Conn.LimitsChanged] on each open
// connection afterwards so that its ping timer follows a new interval.
func (sh *Shared) SetLimits(cfg *Config) {
	sh.limits.Store(limitsOf(cfg))
}

// currentLimits returns the limits in force. Until [Shared.SetLimits] is
// first called they are those of the first connection's Config.
func (sh *Shared) currentLimits() *Limits {
	return sh.limits.Load()
}

// initLimits sets the shared limits from cfg if none are set yet.
func (sh *Shared) initLimits(cfg *Config) {
	if sh.limits.Load() == nil {
		sh.limits.CompareAndSwap(nil, limitsOf(cfg))
	}
}

// lim returns the limits in force for this connection.
func (c *Conn) lim() *Limits { return c.sh.currentLimits() }

// maxSubs returns the most subscriptions this connection may hold, 0 for
// unlimited. It is the one place the limit is decided: the server's
// max_subscriptions and its account's (nats-server's
// accounts { A { limits { max_subscriptions } } }, a per-connection limit of
// the account's connections), nats-server's way: the smaller of the two
// positive limits. Only the reader calls it (the account is the reader's).
func (c *Conn) maxSubs() int {
	max := c.lim().MaxSubs
	if acc := c.auth.acc; acc != nil {
		if a := int(acc.maxSubs.Load()); a > 0 && (max <= 0 || a < max) {
			max = a
		}
	}
	return max
}

// LimitsChanged makes the connection follow limits set by
// [Shared.SetLimits] that it does not read at each use: a ping timer set
// for another interval is rescheduled to fire one new interval from now (a
// timer already firing reads the new interval itself). A connection without
// a ping timer, or a new interval of 0, is left as it is. It is safe to call
// at any time, from any goroutine.
func (c *Conn) LimitsChanged() {
	every := c.lim().PingInterval
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pingTmr == nil || c.pingEvery == every || every <= 0 {
		return
	}
	if c.pingTmr.Stop() {
		c.pingTmr, c.pingEvery = time.AfterFunc(every, c.pingTimerFired), every
	}
}

// syncParserLimits gives the parser the limits in force, when they changed
// since the last read. Only the reader calls it, before each parse.
func (c *Conn) syncParserLimits() {
	if l := c.lim(); l != c.parserLim {
		c.parser.SetLimits(l.MaxControlLine, l.MaxPayload)
		c.parserLim = l
	}
}
