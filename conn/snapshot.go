package conn

import "time"

// Snapshot is a connection's monitoring view at one moment: for a closed
// connection, its final counters, close time and reason.
type Snapshot struct {
	CID           uint64
	Host          string
	Port          int
	Start         time.Time
	LastActivity  time.Time
	Stop          time.Time // zero while not Closed
	State         State
	Reason        ClosedState // zero while Open
	RTT           time.Duration
	PendingBytes  int64
	InMsgs        int64
	OutMsgs       int64
	InBytes       int64
	OutBytes      int64
	Subscriptions []string
	Name          string
	Lang          string
	Version       string
	// AuthorizedUser is who the client authenticated as (an nkey, a user
	// name, "[REDACTED]" for a token); Account its account.
	AuthorizedUser string
	Account        string
}

// Snapshot returns the connection's current monitoring view.
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
	for sid := range c.subs {
		s.Subscriptions = append(s.Subscriptions, c.subs[sid].subject)
	}
	if c.subs == nil {
		s.Subscriptions = append(s.Subscriptions, c.finalSubs...)
	}
	c.mu.Unlock()
	s.State = c.State()
	s.Reason = c.Reason()
	if t := c.entered[Closed].Load(); t != 0 {
		s.Stop = time.Unix(0, t)
	}
	s.InMsgs = c.inMsgs.Load()
	s.OutMsgs = c.outMsgs.Load()
	s.InBytes = c.inBytes.Load()
	s.OutBytes = c.outBytes.Load()
	return s
}
