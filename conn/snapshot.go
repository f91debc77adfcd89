package conn

import (
	"slices"
	"time"
)

// Snapshot is a connection's monitoring view at one moment: for a closed
// connection, its final counters, close time and reason.
type Snapshot struct {
	CID          uint64
	Host         string
	Port         int
	Start        time.Time
	LastActivity time.Time
	Stop         time.Time // zero while not Closed
	State        State
	Reason       ClosedState // zero while Open
	RTT          time.Duration
	PendingBytes int64
	InMsgs       int64
	OutMsgs      int64
	InBytes      int64
	OutBytes     int64
	// NumSubs is the number of subscriptions. Subscriptions holds their
	// subjects only for a closed connection (they no longer change; the
	// slice is shared and must not be modified); for an open one, ask
	// [Snapshot.SubjectList].
	NumSubs       int
	Subscriptions []string
	Name          string
	Lang          string
	Version       string
	// AuthorizedUser is who the client authenticated as (an nkey, a user
	// name, "[REDACTED]" for a token); Account its account.
	AuthorizedUser string
	Account        string

	conn *Conn // the open connection, for SubjectList; nil once closed
}

// Snapshot returns the connection's current monitoring view. It takes the
// connection's lock only to copy a few fields, never for work that grows
// with its subscriptions, and copies no subscription: [Snapshot.SubjectList]
// does that when asked.
func (c *Conn) Snapshot() Snapshot {
	c.mu.Lock()
	s := Snapshot{
		CID:          c.cid,
		Host:         c.host,
		Port:         c.port,
		Start:        time.Unix(0, c.entered[Open].Load()),
		LastActivity: time.Unix(0, c.lastIn.Load()),
		RTT:          c.rtt,
		PendingBytes: c.out.pending(),
		Name:         c.opts.Name,
		Lang:         c.opts.Lang,
		Version:      c.opts.Version,
	}
	s.AuthorizedUser, s.Account = c.auth.id.User, c.auth.id.Account
	c.mu.Unlock()
	s.State = c.State()
	s.Reason = c.Reason()
	if t := c.entered[Closed].Load(); t != 0 {
		s.Stop = time.Unix(0, t)
	}
	if s.State == Closed {
		c.subsMu.Lock()
		s.Subscriptions = c.finalSubs
		c.subsMu.Unlock()
		s.NumSubs = len(s.Subscriptions)
	} else {
		s.NumSubs = int(c.numSubs.Load())
		s.conn = c
	}
	s.InMsgs = c.inMsgs.Load()
	s.OutMsgs = c.outMsgs.Load()
	s.InBytes = c.inBytes.Load()
	s.OutBytes = c.outBytes.Load()
	return s
}

// SubjectList returns the subjects of the connection's subscriptions, as
// a new slice the caller owns: the ones at the snapshot for a closed
// connection, the current ones for an open one (copied under the
// subscriptions' own lock, which no delivery takes).
func (s *Snapshot) SubjectList() []string {
	if s.conn == nil {
		return slices.Clone(s.Subscriptions)
	}
	return s.conn.subjects()
}

// subjects returns the subjects of the connection's subscriptions now (the
// final ones once closed).
func (c *Conn) subjects() []string {
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	if c.subs == nil {
		return slices.Clone(c.finalSubs)
	}
	out := make([]string, 0, len(c.subs))
	for _, s := range c.subs {
		out = append(out, s.subject)
	}
	return out
}
