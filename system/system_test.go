package system

import (
	"testing"
	"time"

	"github.com/natsd/natsd/lifecycle/monitor"
	"gotest.tools/v3/assert"
)

// TestStatszBackoff: the STATSZ interval doubles from 250 ms up to 10 s,
// as nats-server's.
func TestStatszBackoff(t *testing.T) {
	var got []time.Duration
	for d := DefaultStatszFirst; len(got) < 9; d = nextStatsz(d, DefaultStatszMax) {
		got = append(got, d)
	}
	ms := time.Millisecond
	assert.DeepEqual(t, got, []time.Duration{250 * ms, 500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second})
}

// TestFilters: a server answers a request whose filters it matches, as
// substrings or exactly, and never one filtered on tags or a domain.
func TestFilters(t *testing.T) {
	c := &Client{cfg: Config{Name: "natsd-1", Host: "127.0.0.1", Cluster: "east"}}
	for _, tc := range []struct {
		f    *EventFilterOptions
		want bool
	}{
		{nil, true},
		{&EventFilterOptions{}, true},
		{&EventFilterOptions{Name: "natsd"}, true},
		{&EventFilterOptions{Name: "natsd", ExactMatch: true}, false},
		{&EventFilterOptions{Name: "natsd-1", ExactMatch: true}, true},
		{&EventFilterOptions{Host: "127.0"}, true},
		{&EventFilterOptions{Host: "10.0"}, false},
		{&EventFilterOptions{Cluster: "ea"}, true},
		{&EventFilterOptions{Cluster: "ea", ExactMatch: true}, false},
		{&EventFilterOptions{Tags: []string{"az:1"}}, false},
		{&EventFilterOptions{Domain: "hub"}, false},
	} {
		assert.Equal(t, c.matches(tc.f), tc.want, "%+v", tc.f)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for hdr, want := range map[string]bool{
		"": false,
		"NATS/1.0\r\nAccept-Encoding: gzip\r\n\r\n":         true,
		"NATS/1.0\r\naccept-encoding: GZIP, br\r\n\r\n":     true,
		"NATS/1.0\r\nAccept-Encoding: snappy\r\n\r\n":       false,
		"NATS/1.0\r\nAccept-Encoding: snappy, gzip\r\n\r\n": false,
		"NATS/1.0\r\nOther: gzip\r\n\r\n":                   false,
	} {
		assert.Equal(t, acceptsGzip([]byte(hdr)), want, "%q", hdr)
	}
}

// TestConnzOptions: the CONNZ request's options become /connz's, and what
// /connz refuses (or natsd does not do) is refused.
func TestConnzOptions(t *testing.T) {
	for _, tc := range []struct {
		in   connzOptions
		want monitor.ConnzOptions
		err  string
	}{
		{in: connzOptions{}, want: monitor.ConnzOptions{}},
		{in: connzOptions{State: 1, Sort: "reason", Auth: true, Subscriptions: true, User: "u", Account: "A"},
			want: monitor.ConnzOptions{State: monitor.ConnClosed, Sort: monitor.ByReason, Auth: true, Subs: true, User: "u", Account: "A"}},
		{in: connzOptions{State: 2, CID: 7, Limit: 50}, want: monitor.ConnzOptions{State: monitor.ConnAny, CID: 7, Limit: 1}},
		{in: connzOptions{SubscriptionsDetail: true, Offset: -3}, want: monitor.ConnzOptions{Subs: true}},
		{in: connzOptions{State: 3}, err: "invalid state: 3 (valid: 0 open, 1 closed, 2 any)"},
		{in: connzOptions{Sort: "size"}, err: "invalid sorting option: size"},
		{in: connzOptions{Sort: "stop"}, err: "sort by stop only valid on closed connections"},
		{in: connzOptions{FilterSubject: "a.b", Account: "A"}, err: "filter by subject is not supported by natsd"},
		{in: connzOptions{FilterSubject: ">"}, want: monitor.ConnzOptions{}},
	} {
		got, err := tc.in.monitorOptions()
		if tc.err != "" {
			assert.Error(t, err, tc.err)
			continue
		}
		assert.NilError(t, err)
		assert.DeepEqual(t, got, tc.want)
	}
}

// TestQueueIsBounded: a full queue refuses, reporting the first refusal
// of a run once, and a closed one refuses everything.
func TestQueueIsBounded(t *testing.T) {
	q := newQueue[int]()
	for i := range QueueLimit {
		ok, _ := q.push(i)
		assert.Assert(t, ok)
	}
	ok, first := q.push(-1)
	assert.Assert(t, !ok && first)
	ok, first = q.push(-2)
	assert.Assert(t, !ok && !first, "one log line per run of refusals")
	assert.Equal(t, len(q.pop()), QueueLimit)
	<-q.ready
	ok, _ = q.push(1)
	assert.Assert(t, ok)
	q.close()
	ok, first = q.push(2)
	assert.Assert(t, !ok && !first, "a closed queue refuses without a warning")
	assert.DeepEqual(t, q.pop(), []int{1})
}
