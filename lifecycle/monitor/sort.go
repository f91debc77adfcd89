package monitor

import (
	"cmp"
	"slices"
	"time"
)

// SortOpt is a /connz sort key, with nats-server's names.
type SortOpt string

// The sort keys. Directions follow nats-server: cid, start, uptime and
// reason ascend; every other key descends (largest first).
const (
	ByCid      SortOpt = "cid"        // connection id
	ByStart    SortOpt = "start"      // start time, the same order as cid
	BySubs     SortOpt = "subs"       // number of subscriptions
	ByPending  SortOpt = "pending"    // bytes waiting to be written
	ByOutMsgs  SortOpt = "msgs_to"    // messages sent to the client
	ByInMsgs   SortOpt = "msgs_from"  // messages received from the client
	ByOutBytes SortOpt = "bytes_to"   // bytes sent to the client
	ByInBytes  SortOpt = "bytes_from" // bytes received from the client
	ByLast     SortOpt = "last"       // last activity, latest first
	ByIdle     SortOpt = "idle"       // idle time, longest first
	ByUptime   SortOpt = "uptime"     // time connected, shortest first
	ByStop     SortOpt = "stop"       // close time, latest first (closed only)
	ByReason   SortOpt = "reason"     // close reason text (closed only)
	ByRTT      SortOpt = "rtt"        // round-trip time, longest first
)

// sortKey compares two entries in the key's own direction.
type sortKey func(a, b *ConnInfo, now time.Time) int

var sortKeys = map[SortOpt]sortKey{
	ByCid:      func(a, b *ConnInfo, _ time.Time) int { return 0 },
	ByStart:    func(a, b *ConnInfo, _ time.Time) int { return 0 },
	BySubs:     func(a, b *ConnInfo, _ time.Time) int { return cmp.Compare(b.NumSubs, a.NumSubs) },
	ByPending:  func(a, b *ConnInfo, _ time.Time) int { return cmp.Compare(b.PendingBytes, a.PendingBytes) },
	ByOutMsgs:  func(a, b *ConnInfo, _ time.Time) int { return cmp.Compare(b.OutMsgs, a.OutMsgs) },
	ByInMsgs:   func(a, b *ConnInfo, _ time.Time) int { return cmp.Compare(b.InMsgs, a.InMsgs) },
	ByOutBytes: func(a, b *ConnInfo, _ time.Time) int { return cmp.Compare(b.OutBytes, a.OutBytes) },
	ByInBytes:  func(a, b *ConnInfo, _ time.Time) int { return cmp.Compare(b.InBytes, a.InBytes) },
	ByLast:     func(a, b *ConnInfo, _ time.Time) int { return b.LastActivity.Compare(a.LastActivity) },
	ByIdle: func(a, b *ConnInfo, now time.Time) int {
		return cmp.Compare(now.Sub(b.LastActivity), now.Sub(a.LastActivity))
	},
	ByUptime: func(a, b *ConnInfo, now time.Time) int { return cmp.Compare(uptime(a, now), uptime(b, now)) },
	ByStop:   func(a, b *ConnInfo, _ time.Time) int { return stopTime(b).Compare(stopTime(a)) },
	ByReason: func(a, b *ConnInfo, _ time.Time) int { return cmp.Compare(a.Reason, b.Reason) },
	ByRTT:    func(a, b *ConnInfo, _ time.Time) int { return cmp.Compare(b.rtt, a.rtt) },
}

// sortOrder is the order in which error messages list the keys.
var sortOrder = []SortOpt{ByCid, ByStart, BySubs, ByPending, ByOutMsgs, ByInMsgs, ByOutBytes, ByInBytes, ByLast, ByIdle, ByUptime, ByStop, ByReason, ByRTT}

// IsValid reports whether s is a known sort key or empty (sort by cid).
func (s SortOpt) IsValid() bool {
	_, ok := sortKeys[s]
	return ok || s == ""
}

func sortNames() []string {
	out := make([]string, len(sortOrder))
	for i, s := range sortOrder {
		out[i] = string(s)
	}
	return out
}

// sortConns sorts infos by key (a valid one), breaking ties by ascending
// cid so that pages never overlap or skip.
func sortConns(infos []*ConnInfo, key SortOpt, now time.Time) {
	by := sortKeys[key]
	if by == nil {
		by = sortKeys[ByCid]
	}
	slices.SortFunc(infos, func(a, b *ConnInfo) int {
		if c := by(a, b, now); c != 0 {
			return c
		}
		return cmp.Compare(a.CID, b.CID)
	})
}

// uptime is how long a connection was connected: until its close, or
// until now.
func uptime(c *ConnInfo, now time.Time) time.Duration {
	if c.Stop != nil {
		return c.Stop.Sub(c.Start)
	}
	return now.Sub(c.Start)
}

func stopTime(c *ConnInfo) time.Time {
	if c.Stop == nil {
		return time.Time{}
	}
	return *c.Stop
}
