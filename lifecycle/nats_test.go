package lifecycle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
)

// Integration tests with the official Go client, nats.go. Message counts
// are checked without waiting on time: after a publisher's Flush the server
// has routed every message it sent, and after a subscriber's Flush every
// message routed to it has reached the client library (the PONG is queued
// behind them), so sub.Pending() is exact.

// pending returns how many messages wait in a synchronous subscription.
func pending(t *testing.T, sub *nats.Subscription) int {
	t.Helper()
	n, _, err := sub.Pending()
	assert.NilError(t, err)
	return n
}

// flush flushes every connection, in order.
func flush(t *testing.T, ncs ...*nats.Conn) {
	t.Helper()
	for _, nc := range ncs {
		assert.NilError(t, nc.Flush())
	}
}

// next returns the next message of a synchronous subscription, which the
// caller knows is there.
func next(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	assert.NilError(t, err)
	return m
}

func TestNATSPubSubOrder(t *testing.T) {
	const n = 10000
	s := startServer(t, nil)
	pub, subc := connect(t, s), connect(t, s)
	sub, err := subc.SubscribeSync("order")
	assert.NilError(t, err)
	flush(t, subc)
	for i := range n {
		assert.NilError(t, pub.Publish("order", []byte(strconv.Itoa(i))))
	}
	flush(t, pub, subc)
	assert.Equal(t, pending(t, sub), n)
	for i := range n {
		m := next(t, sub)
		assert.Equal(t, string(m.Data), strconv.Itoa(i), "message %d out of order", i)
	}
}

// TestQueuePickFollowsRand: the queue-group pick draws from Deps.Rand, so
// two servers seeded alike, given the same clients in the same order,
// pick the same member for every message; another seed picks otherwise.
func TestQueuePickFollowsRand(t *testing.T) {
	const n = 60
	picks := func(seed uint64) []int {
		s := startServerWith(t, Deps{Rand: rand.New(rand.NewPCG(seed, seed))}, nil)
		var (
			members []*nats.Subscription
			conns   []*nats.Conn
		)
		for range 3 {
			nc := connect(t, s)
			sub, err := nc.QueueSubscribeSync("work", "workers")
			assert.NilError(t, err)
			flush(t, nc)
			members, conns = append(members, sub), append(conns, nc)
		}
		pub := connect(t, s)
		for i := range n {
			assert.NilError(t, pub.Publish("work", []byte(strconv.Itoa(i))))
		}
		flush(t, pub)
		who := make([]int, n)
		flush(t, conns...)
		for m, sub := range members {
			for range pending(t, sub) {
				i, err := strconv.Atoi(string(next(t, sub).Data))
				assert.NilError(t, err)
				who[i] = m
			}
		}
		return who
	}
	a, b := picks(7), picks(7)
	assert.DeepEqual(t, a, b)
	assert.Assert(t, !slices.Equal(a, picks(8)), "another seed picked the same members")
}

func TestNATSQueueGroup(t *testing.T) {
	const n = 3000
	s := startServer(t, nil)
	pub := connect(t, s)
	var members []*nats.Subscription
	var conns []*nats.Conn
	for range 3 {
		nc := connect(t, s)
		sub, err := nc.QueueSubscribeSync("work", "workers")
		assert.NilError(t, err)
		members = append(members, sub)
		conns = append(conns, nc)
	}
	plainc := connect(t, s)
	plain, err := plainc.SubscribeSync("work")
	assert.NilError(t, err)
	flush(t, append(conns, plainc)...)

	for i := range n {
		assert.NilError(t, pub.Publish("work", []byte(strconv.Itoa(i))))
	}
	flush(t, pub)
	flush(t, append(conns, plainc)...)

	seen := make([]int, n)
	total := 0
	for i, sub := range members {
		k := pending(t, sub)
		assert.Assert(t, k > 0, "member %d got nothing: the group is not spread", i)
		total += k
		for range k {
			id, err := strconv.Atoi(string(next(t, sub).Data))
			assert.NilError(t, err)
			seen[id]++
		}
	}
	assert.Equal(t, total, n)
	for id, times := range seen {
		assert.Equal(t, times, 1, "message %d delivered %d times to the group", id, times)
	}
	assert.Equal(t, pending(t, plain), n, "the plain subscriber must get every message")
}

func TestNATSWildcards(t *testing.T) {
	published := []string{"foo", "foo.bar", "foo.baz", "foo.bar.baz", "foo.bar.baz.qux", "bar.bar.baz", "x.y.z"}
	cases := []struct {
		sub  string
		want []string
	}{
		{sub: "foo", want: []string{"foo"}},
		{sub: "foo.*", want: []string{"foo.bar", "foo.baz"}},
		{sub: "foo.>", want: []string{"foo.bar", "foo.baz", "foo.bar.baz", "foo.bar.baz.qux"}},
		{sub: ">", want: published},
		{sub: "*", want: []string{"foo"}},
		{sub: "*.bar.*", want: []string{"foo.bar.baz", "bar.bar.baz"}},
		{sub: "*.bar.>", want: []string{"foo.bar.baz", "foo.bar.baz.qux", "bar.bar.baz"}},
		{sub: "*.*.baz", want: []string{"foo.bar.baz", "bar.bar.baz"}},
		{sub: "foo.*.baz.>", want: []string{"foo.bar.baz.qux"}},
		{sub: "*.*.*", want: []string{"foo.bar.baz", "bar.bar.baz", "x.y.z"}},
		{sub: "nomatch.>", want: nil},
	}
	s := startServer(t, nil)
	pub, subc := connect(t, s), connect(t, s)
	subs := make([]*nats.Subscription, len(cases))
	for i, tc := range cases {
		var err error
		subs[i], err = subc.SubscribeSync(tc.sub)
		assert.NilError(t, err)
	}
	flush(t, subc)
	for _, subj := range published {
		assert.NilError(t, pub.Publish(subj, []byte(subj)))
	}
	flush(t, pub, subc)
	for i, tc := range cases {
		t.Run(tc.sub, func(t *testing.T) {
			var got []string
			for range pending(t, subs[i]) {
				m := next(t, subs[i])
				assert.Equal(t, string(m.Data), m.Subject)
				got = append(got, m.Subject)
			}
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestNATSRequestReply(t *testing.T) {
	s := startServer(t, nil)
	svc, cli := connect(t, s), connect(t, s)
	_, err := svc.Subscribe("svc.echo", func(m *nats.Msg) {
		m.Respond(append([]byte("re: "), m.Data...))
	})
	assert.NilError(t, err)
	flush(t, svc)
	for i := range 20 {
		m, err := cli.Request("svc.echo", []byte(fmt.Sprint(i)), 5*time.Second)
		assert.NilError(t, err)
		assert.Equal(t, string(m.Data), fmt.Sprintf("re: %d", i))
	}
	// The old-style request, with a fresh inbox subscription each time.
	old := connect(t, s, nats.UseOldRequestStyle())
	m, err := old.Request("svc.echo", []byte("old"), 5*time.Second)
	assert.NilError(t, err)
	assert.Equal(t, string(m.Data), "re: old")
}

func TestNATSHeadersRoundTrip(t *testing.T) {
	s := startServer(t, nil)
	pub, subc := connect(t, s), connect(t, s)
	sub, err := subc.SubscribeSync("hdr")
	assert.NilError(t, err)
	flush(t, subc)

	out := nats.NewMsg("hdr")
	out.Header.Set("X-One", "1")
	out.Header.Add("X-Many", "a")
	out.Header.Add("X-Many", "b")
	out.Data = []byte("body")
	assert.NilError(t, pub.PublishMsg(out))
	// A header-only message: empty payload.
	empty := nats.NewMsg("hdr")
	empty.Header.Set("X-Empty", "yes")
	assert.NilError(t, pub.PublishMsg(empty))
	flush(t, pub)

	m := next(t, sub)
	assert.Equal(t, string(m.Data), "body")
	assert.Equal(t, m.Header.Get("X-One"), "1")
	assert.DeepEqual(t, m.Header.Values("X-Many"), []string{"a", "b"})
	m = next(t, sub)
	assert.Equal(t, len(m.Data), 0)
	assert.Equal(t, m.Header.Get("X-Empty"), "yes")

	// Headers on a request and on its reply.
	_, err = subc.Subscribe("hdr.svc", func(req *nats.Msg) {
		rep := nats.NewMsg(req.Reply)
		rep.Header.Set("X-Seen", req.Header.Get("X-Req"))
		rep.Data = []byte("ok")
		req.RespondMsg(rep)
	})
	assert.NilError(t, err)
	flush(t, subc)
	req := nats.NewMsg("hdr.svc")
	req.Header.Set("X-Req", "abc")
	rep, err := pub.RequestMsg(req, 5*time.Second)
	assert.NilError(t, err)
	assert.Equal(t, rep.Header.Get("X-Seen"), "abc")
	assert.Equal(t, string(rep.Data), "ok")
}

func TestNATSNoResponders(t *testing.T) {
	s := startServer(t, nil)
	nc := connect(t, s)
	start := time.Now()
	_, err := nc.Request("nobody.home", []byte("hi"), 10*time.Second)
	assert.ErrorIs(t, err, nats.ErrNoResponders)
	// The 503 answers at once: nowhere near the request timeout.
	assert.Assert(t, time.Since(start) < 5*time.Second)
	_, err = nc.RequestMsg(&nats.Msg{Subject: "nobody.home", Header: nats.Header{"X": []string{"y"}}}, 10*time.Second)
	assert.ErrorIs(t, err, nats.ErrNoResponders)
}

func TestNATSFlushAndRTT(t *testing.T) {
	s := startServer(t, nil)
	nc := connect(t, s)
	assert.NilError(t, nc.Flush())
	assert.NilError(t, nc.FlushTimeout(5*time.Second))
	rtt, err := nc.RTT()
	assert.NilError(t, err)
	assert.Assert(t, rtt > 0 && rtt < 5*time.Second, "rtt %v", rtt)
}

func TestNATSAutoUnsubscribe(t *testing.T) {
	s := startServer(t, nil)
	pub, subc := connect(t, s), connect(t, s)
	sub, err := subc.SubscribeSync("auto")
	assert.NilError(t, err)
	assert.NilError(t, sub.AutoUnsubscribe(5))
	flush(t, subc)
	assert.Equal(t, clientSubs(s), 1)
	for i := range 10 {
		assert.NilError(t, pub.Publish("auto", []byte(strconv.Itoa(i))))
	}
	flush(t, pub, subc)
	assert.Equal(t, pending(t, sub), 5)
	for i := range 5 {
		assert.Equal(t, string(next(t, sub).Data), strconv.Itoa(i))
	}
	// The server dropped the subscription at its limit.
	assert.Equal(t, clientSubs(s), 0)
	// Later messages reach nobody.
	assert.NilError(t, pub.Publish("auto", []byte("late")))
	flush(t, pub, subc)
	_, err = sub.NextMsg(0)
	assert.Assert(t, err != nil, "no message after the limit")
}

func TestNATSNoEcho(t *testing.T) {
	s := startServer(t, nil)
	quiet := connect(t, s, nats.NoEcho())
	loud := connect(t, s)
	other := connect(t, s)

	quietSelf, err := quiet.SubscribeSync("echo")
	assert.NilError(t, err)
	loudSelf, err := loud.SubscribeSync("echo")
	assert.NilError(t, err)
	watcher, err := other.SubscribeSync("echo")
	assert.NilError(t, err)
	flush(t, quiet, loud, other)

	assert.NilError(t, quiet.Publish("echo", []byte("from quiet")))
	assert.NilError(t, loud.Publish("echo", []byte("from loud")))
	flush(t, quiet, loud)        // both publishers' messages are routed
	flush(t, quiet, loud, other) // and have reached every subscriber

	// quiet does not hear itself, but hears loud.
	assert.Equal(t, pending(t, quietSelf), 1)
	assert.Equal(t, string(next(t, quietSelf).Data), "from loud")
	// loud hears both, itself included (echo is the default).
	assert.Equal(t, pending(t, loudSelf), 2)
	// Others hear both.
	assert.Equal(t, pending(t, watcher), 2)
	var got []string
	for range 2 {
		got = append(got, string(next(t, watcher).Data))
	}
	slices.Sort(got)
	assert.DeepEqual(t, got, []string{"from loud", "from quiet"})
}

// A client that did not declare headers gets a message published with
// headers as a plain MSG carrying the payload alone.
func TestNATSHeadersStrippedForClientWithoutHeaders(t *testing.T) {
	s := startServer(t, nil)
	raw := dialRaw(t, s)
	raw.send("CONNECT {\"verbose\":false,\"headers\":false}\r\nSUB hdr 7\r\nPING\r\n")
	assert.Equal(t, raw.line(), "PONG")

	pub := connect(t, s)
	m := nats.NewMsg("hdr")
	m.Header.Set("X-Secret", "not for you")
	m.Data = []byte("payload")
	m.Reply = "my.reply"
	assert.NilError(t, pub.PublishMsg(m))
	// A header-only message becomes an empty MSG.
	m = nats.NewMsg("hdr")
	m.Header.Set("X-Only", "1")
	assert.NilError(t, pub.PublishMsg(m))
	flush(t, pub)

	assert.Equal(t, raw.line(), "MSG hdr 7 my.reply 7")
	assert.Equal(t, raw.line(), "payload")
	assert.Equal(t, raw.line(), "MSG hdr 7 0")
	assert.Equal(t, raw.line(), "")
	raw.send("PING\r\n")
	assert.Equal(t, raw.line(), "PONG")
}
