package route

import (
	"slices"
	"time"
)

// Snapshot is a consistent copy of one route for monitoring (/routez).
type Snapshot struct {
	RID          uint64
	RemoteID     string
	RemoteName   string
	DidSolicit   bool
	IsConfigured bool
	IP           string
	Port         int
	Start        time.Time
	LastActivity time.Time
	RTT          time.Duration
	Pending      int
	InMsgs       int64
	OutMsgs      int64
	InBytes      int64
	OutBytes     int64
	// Subs lists the subjects of the remote interest, one entry per
	// (account, subject, queue) as nats-server lists them, sorted.
	Subs        []string
	Compression string
	State       State
}

// Snapshot copies the route for monitoring.
func (r *Route) Snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Snapshot{
		RID:          r.rid,
		RemoteID:     r.remoteID,
		RemoteName:   r.remote.Name,
		DidSolicit:   r.solicited,
		IsConfigured: r.kind == Explicit,
		IP:           r.host,
		Port:         r.port,
		Start:        r.start,
		LastActivity: time.Unix(0, r.last.Load()),
		RTT:          r.rtt,
		Pending:      len(r.out),
		InMsgs:       r.inMsgs.Load(),
		OutMsgs:      r.outMsgs.Load(),
		InBytes:      r.inBytes.Load(),
		OutBytes:     r.outBytes.Load(),
		Compression:  "off",
		State:        r.State(),
	}
	s.Subs = make([]string, 0, len(r.interest))
	for k := range r.interest {
		s.Subs = append(s.Subs, k.subject)
	}
	slices.Sort(s.Subs)
	return s
}

// Routes returns snapshots of the registered (active) routes, by route id,
// as /routez lists them.
func (c *Cluster) Routes() []Snapshot {
	rs := c.active()
	out := make([]Snapshot, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Snapshot())
	}
	slices.SortFunc(out, func(a, b Snapshot) int { return int(a.RID) - int(b.RID) })
	return out
}

// StateCounts counts the routes not yet Closed by state, indexed by
// [State]; Closed holds how many routes ever reached Closed from Closing.
func (c *Cluster) StateCounts() [numStates]int64 {
	var n [numStates]int64
	for _, r := range c.all() {
		n[r.State()]++
	}
	for i := range c.closedBy {
		n[Closed] += c.closedBy[i].Load()
	}
	return n
}

// ClosedCounts returns, for each close reason r, how many routes were
// closed for r: ClosedCounts()[r].
func (c *Cluster) ClosedCounts() []int64 {
	out := make([]int64, len(c.closedBy))
	for i := range c.closedBy {
		out[i] = c.closedBy[i].Load()
	}
	return out
}

// History returns the last route transitions, oldest first.
func (c *Cluster) History() []Transition { return c.history.snapshot() }

// StateNames returns the declared route state names in order.
func StateNames() []string { return slices.Clone(stateNames) }

// Name returns the cluster name.
func (c *Cluster) Name() string { return c.config().Name }
