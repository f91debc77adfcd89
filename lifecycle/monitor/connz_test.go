package monitor

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/assert/cmp"
)

// snap builds an open connection's snapshot: cid n, started n seconds
// before t0.
func snap(n uint64) conn.Snapshot {
	return conn.Snapshot{
		CID:          n,
		Host:         "127.0.0.1",
		Port:         50000 + int(n),
		Start:        t0.Add(-time.Duration(n) * time.Second),
		LastActivity: t0.Add(-time.Duration(n) * time.Second),
		State:        conn.Open,
	}
}

// closedSnap builds a closed connection's snapshot.
func closedSnap(n uint64, reason conn.ClosedState, stop time.Time) conn.Snapshot {
	s := snap(n)
	s.State = conn.Closed
	s.Reason = reason
	s.Stop = stop
	return s
}

func cids(c *Connz) []uint64 {
	out := make([]uint64, len(c.Conns))
	for i, ci := range c.Conns {
		out[i] = ci.CID
	}
	return out
}

func TestConnzBadRequests(t *testing.T) {
	m := newMonitor(newFake())
	cases := []struct {
		query string
		want  string // in the error
	}{
		{"sort=bogus", `invalid sorting option: "bogus"`},
		{"sort=CID", `invalid sorting option: "CID"`},
		{"limit=-1", `invalid limit: "-1"`},
		{"limit=ten", `invalid limit: "ten"`},
		{"limit=1.5", `invalid limit: "1.5"`},
		{"offset=-5", `invalid offset: "-5"`},
		{"offset=x", `invalid offset: "x"`},
		{"state=gone", `invalid state: "gone"`},
		{"cid=-1", `invalid cid: "-1"`},
		{"subs=maybe", `invalid subs: "maybe"`},
		{"sort=stop", "sort by stop is only valid with state=closed"},
		{"sort=reason&state=any", "sort by reason is only valid with state=closed"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			var body errorBody
			getJSON(t, m, "/connz?"+tc.query, http.StatusBadRequest, &body)
			assert.Check(t, cmp.Contains(body.Error, tc.want))
		})
	}
}

func TestConnzPaging(t *testing.T) {
	f := newFake()
	for _, n := range []uint64{5, 3, 1, 4, 2} { // the source's order is arbitrary
		f.open = append(f.open, snap(n))
	}
	m := newMonitor(f)
	cases := []struct {
		query     string
		want      []uint64
		wantLimit int
	}{
		{"", []uint64{1, 2, 3, 4, 5}, DefaultConnListSize},
		{"limit=0", []uint64{1, 2, 3, 4, 5}, DefaultConnListSize},
		{"limit=2", []uint64{1, 2}, 2},
		{"limit=2&offset=2", []uint64{3, 4}, 2},
		{"limit=2&offset=4", []uint64{5}, 2},
		{"offset=5", []uint64{}, DefaultConnListSize},
		{"offset=99", []uint64{}, DefaultConnListSize},
		{"cid=3", []uint64{3}, DefaultConnListSize},
		{"cid=42", []uint64{}, DefaultConnListSize},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			var c Connz
			getJSON(t, m, "/connz?"+tc.query, http.StatusOK, &c)
			assert.DeepEqual(t, cids(&c), tc.want)
			assert.Equal(t, c.NumConns, len(tc.want))
			assert.Equal(t, c.Limit, tc.wantLimit)
			if tc.query == "cid=3" || tc.query == "cid=42" {
				assert.Equal(t, c.Total, len(tc.want))
			} else {
				assert.Equal(t, c.Total, 5)
			}
			assert.Equal(t, c.ID, "NSERVERID")
			assert.Equal(t, c.Now, t0)
		})
	}
}

// TestConnzPagesCoverEverything: walking the pages of any sort lists every
// connection exactly once, ties included.
func TestConnzPagesCoverEverything(t *testing.T) {
	f := newFake()
	for n := uint64(1); n <= 23; n++ {
		s := snap(n)
		s.OutMsgs = int64(n % 3) // many ties
		f.open = append(f.open, s)
	}
	m := newMonitor(f)
	for _, key := range sortOrder {
		if key == ByStop || key == ByReason {
			continue
		}
		seen := map[uint64]int{}
		for off := 0; off < 23; off += 5 {
			c := m.Connz(ConnzOptions{Sort: key, Offset: off, Limit: 5})
			for _, ci := range c.Conns {
				seen[ci.CID]++
			}
		}
		assert.Equal(t, len(seen), 23, "sort %s", key)
		for cid, n := range seen {
			assert.Equal(t, n, 1, "sort %s lists cid %d %d times", key, cid, n)
		}
	}
}

func TestConnzSort(t *testing.T) {
	f := newFake()
	// Each connection leads in one measure so every key gives a distinct
	// order.
	mk := func(n uint64, subs int, pending, outMsgs, inMsgs, outBytes, inBytes int64, lastAgo, rtt time.Duration) conn.Snapshot {
		s := snap(n)
		for i := range subs {
			s.Subscriptions = append(s.Subscriptions, fmt.Sprintf("s.%d", i))
			s.NumSubs++
		}
		s.PendingBytes, s.OutMsgs, s.InMsgs, s.OutBytes, s.InBytes = pending, outMsgs, inMsgs, outBytes, inBytes
		s.LastActivity = t0.Add(-lastAgo)
		s.RTT = rtt
		return s
	}
	f.open = []conn.Snapshot{
		mk(1, 3, 10, 1, 5, 40, 2, 9*time.Second, time.Millisecond),
		mk(2, 1, 30, 2, 4, 10, 3, 1*time.Second, 3*time.Millisecond),
		mk(3, 2, 20, 3, 3, 30, 1, 5*time.Second, 2*time.Millisecond),
	}
	f.closed = []conn.Snapshot{
		closedSnap(7, conn.SlowConsumerPendingBytes, t0.Add(-3*time.Second)),
		closedSnap(8, conn.ClientClosed, t0.Add(-1*time.Second)),
		closedSnap(9, conn.ServerShutdown, t0.Add(-2*time.Second)),
	}
	m := newMonitor(f)
	cases := []struct {
		query string
		want  []uint64
	}{
		{"sort=cid", []uint64{1, 2, 3}},
		{"sort=start", []uint64{1, 2, 3}},
		{"sort=subs", []uint64{1, 3, 2}},
		{"sort=pending", []uint64{2, 3, 1}},
		{"sort=msgs_to", []uint64{3, 2, 1}},
		{"sort=msgs_from", []uint64{1, 2, 3}},
		{"sort=bytes_to", []uint64{1, 3, 2}},
		{"sort=bytes_from", []uint64{2, 1, 3}},
		{"sort=last", []uint64{2, 3, 1}},
		{"sort=idle", []uint64{1, 3, 2}},
		{"sort=uptime", []uint64{1, 2, 3}}, // shortest first, as nats-server
		{"sort=rtt", []uint64{2, 3, 1}},
		{"state=closed", []uint64{7, 8, 9}},
		{"state=closed&sort=stop", []uint64{8, 9, 7}},
		{"state=closed&sort=reason", []uint64{8, 9, 7}}, // Client Closed, Server Shutdown, Slow Consumer
		{"state=any", []uint64{1, 2, 3, 7, 8, 9}},
		{"state=ALL&limit=2&offset=2", []uint64{3, 7}},
		{"state=any&sort=uptime", []uint64{1, 2, 3, 7, 8, 9}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			var c Connz
			getJSON(t, m, "/connz?"+tc.query, http.StatusOK, &c)
			assert.DeepEqual(t, cids(&c), tc.want)
		})
	}
}

func TestConnzEntries(t *testing.T) {
	f := newFake()
	o := snap(1)
	o.Start = t0.Add(-(time.Hour + 2*time.Minute + 3*time.Second))
	o.LastActivity = t0.Add(-4 * time.Second)
	o.RTT = 1234567 * time.Nanosecond
	o.Subscriptions, o.NumSubs = []string{"b", "a"}, 2
	o.Name, o.Lang, o.Version = "svc", "go", "1.55.0"
	o.InMsgs, o.OutMsgs, o.InBytes, o.OutBytes, o.PendingBytes = 1, 2, 3, 4, 5
	c := closedSnap(2, conn.MaxPayloadExceeded, t0.Add(-10*time.Second))
	c.Start = t0.Add(-70 * time.Second)
	c.LastActivity = t0.Add(-15 * time.Second)
	c.RTT = 1500 * time.Nanosecond
	f.open, f.closed = []conn.Snapshot{o}, []conn.Snapshot{c}
	m := newMonitor(f)

	var got Connz
	getJSON(t, m, "/connz?state=any&subs=1", http.StatusOK, &got)
	assert.Equal(t, len(got.Conns), 2)
	open, closed := got.Conns[0], got.Conns[1]
	assert.DeepEqual(t, *open, ConnInfo{
		CID: 1, Kind: "Client", Type: "nats", IP: "127.0.0.1", Port: 50001,
		Start: o.Start, LastActivity: o.LastActivity, RTT: "1.234567ms",
		Uptime: "1h2m3s", Idle: "4s", PendingBytes: 5, InMsgs: 1, OutMsgs: 2, InBytes: 3, OutBytes: 4,
		NumSubs: 2, Name: "svc", Lang: "go", Version: "1.55.0", Subs: []string{"a", "b"},
	}, cmpConnInfo)
	// A closed connection's uptime and idle are measured at its close.
	assert.Equal(t, *closed.Stop, c.Stop)
	assert.Equal(t, closed.Reason, "Maximum Message Payload Exceeded")
	assert.Equal(t, closed.Uptime, "1m0s")
	assert.Equal(t, closed.Idle, "5s")
	assert.Equal(t, closed.RTT, "1µs")

	// Without subs=1 no list, and no stop or reason on open entries.
	code, body := get(t, m, "/connz")
	assert.Equal(t, code, http.StatusOK)
	assert.Assert(t, !strings.Contains(string(body), "subscriptions_list"))
	assert.Assert(t, !strings.Contains(string(body), `"stop"`))
	assert.Assert(t, !strings.Contains(string(body), `"reason"`))
}

var cmpConnInfo = cmpopts.IgnoreUnexported(ConnInfo{})

func TestUptimeFormat(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0s"},
		{999 * time.Millisecond, "0s"},
		{42 * time.Second, "42s"},
		{3 * time.Minute, "3m0s"},
		{time.Hour + 5*time.Second, "1h0m5s"},
		{2*24*time.Hour + 3*time.Hour, "2d3h0m0s"},
		{366*24*time.Hour + time.Second, "1y1d0h0m1s"},
		{365 * 24 * time.Hour, "1y0d0h0m0s"},
	}
	for _, tc := range cases {
		assert.Check(t, cmp.Equal(formatUptime(tc.d), tc.want), "%v", tc.d)
	}
}

func TestRTTFormat(t *testing.T) {
	assert.Equal(t, formatRTT(0), "0s")
	assert.Equal(t, formatRTT(500*time.Nanosecond), "500ns")
	assert.Equal(t, formatRTT(1500*time.Nanosecond), "1µs")
	assert.Equal(t, formatRTT(250*time.Microsecond+999), "250µs")
	assert.Equal(t, formatRTT(1234567*time.Nanosecond), "1.234567ms")
}

func TestConnzSubjectsUnescaped(t *testing.T) {
	f := newFake()
	o := snap(1)
	o.Subscriptions, o.NumSubs = []string{"orders.>"}, 1
	f.open = []conn.Snapshot{o}
	_, body := get(t, newMonitor(f), "/connz?subs=true")
	assert.Check(t, cmp.Contains(string(body), `"orders.>"`))
}
