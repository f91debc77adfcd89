package route

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
)

// Message routing against scripted peers: the interest lines the cluster
// sends, the RMSG and HMSG lines it writes, and what it delivers of the
// peer's messages.

// TestInterestLines: plain interest is announced on 0→1 and withdrawn on
// 1→0; a queue group's weight is announced at every change, withdrawn at
// 0; a count driven below zero (a removal overtaking its insert) sends
// nothing.
func TestInterestLines(t *testing.T) {
	tc := startCluster(t, nil)
	p := tc.register("NP1")
	p.send("PING\r\n")
	assert.Equal(t, p.lineSkippingPings(), "PONG")
	for _, step := range []struct {
		acc, subj, queue string
		delta            int
		want             string // "" for no line
	}{
		{"$G", "foo", "", 1, "RS+ $G foo"},
		{"$G", "foo", "", 1, ""},
		{"$G", "foo", "", -1, ""},
		{"$G", "foo", "", -1, "RS- $G foo"},
		{"A", "foo", "q", 1, "RS+ A foo q 1"},
		{"A", "foo", "q", 1, "RS+ A foo q 2"},
		{"A", "foo", "q", -1, "RS+ A foo q 1"},
		{"A", "foo", "q", -1, "RS- A foo q"},
		{"$G", "early", "", -1, ""},
		{"$G", "early", "", 1, ""},
		{"$G", "wild.>", "", 1, "RS+ $G wild.>"},
	} {
		tc.router.InterestChanged(step.acc, step.subj, step.queue, step.delta)
		p.send("PING\r\n")
		if step.want != "" {
			assert.Equal(t, p.lineSkippingPings(), step.want, "%+v", step)
		}
		assert.Equal(t, p.lineSkippingPings(), "PONG", "%+v", step)
	}
}

// TestInterestDump: a route that becomes active first gets the whole
// local interest (internal subscriptions here), then the changes.
func TestInterestDump(t *testing.T) {
	tc := startCluster(t, nil)
	sys := tc.sh.Accounts.Load().System()
	nop := func(_, _, _, _ []byte) {}
	_, err := sys.SubscribeInternal("$SYS.REQ.SERVER.PING", "1", nop)
	assert.NilError(t, err)
	tc.router.InterestChanged("A", "jobs", "workers", 1)
	tc.router.InterestChanged("A", "jobs", "workers", 1)
	p := tc.register("NP1")
	var dump []string
	p.send("PING\r\n")
	for l := p.lineSkippingPings(); l != "PONG"; l = p.lineSkippingPings() {
		dump = append(dump, l)
	}
	slices.Sort(dump)
	assert.DeepEqual(t, dump, []string{"RS+ $SYS $SYS.REQ.SERVER.PING", "RS+ A jobs workers 2"})
	s, err := sys.SubscribeInternal("$SYS.REQ.ACCOUNT.>", "2", nop)
	assert.NilError(t, err)
	assert.Equal(t, p.lineSkippingPings(), "RS+ $SYS $SYS.REQ.ACCOUNT.>")
	sys.UnsubscribeInternal(s)
	assert.Equal(t, p.lineSkippingPings(), "RS- $SYS $SYS.REQ.ACCOUNT.>")
}

// TestForwardedLines: a local producer's message goes to the peer only
// for its interest, in nats-server's forms (the facts sheet's verified
// lines), and once even when several of its subscriptions match.
func TestForwardedLines(t *testing.T) {
	tc := startCluster(t, nil)
	p := tc.register("NP1")
	p.send("RS+ $G foo\r\nRS+ $G bar\r\nRS+ $G bar grp 3\r\nRS+ $G f.*\r\nRS+ $G f.>\r\nRS+ A only.a\r\nPING\r\n")
	assert.Equal(t, p.lineSkippingPings(), "PONG")
	pub := conn.NewProducer(tc.sh, false)
	g := tc.sh.Accounts.Load().Global()
	a := tc.sh.Accounts.Load().Lookup("A")
	for _, tc := range []struct {
		acc              *conn.Account
		subj, reply, msg string
		hdr              int
		want             string // the control line, "" for nothing
	}{
		{g, "foo", "", "hello", -1, "RMSG $G foo 5"},
		{g, "foo", "r.1", "hello", -1, "RMSG $G foo r.1 5"},
		{g, "bar", "reply.x", "hello", -1, "RMSG $G bar + reply.x grp 5"},
		{g, "bar", "", "NATS/1.0\r\n\r\nhi", 12, "HMSG $G bar | grp 12 14"},
		{g, "f.x", "", "one", -1, "RMSG $G f.x 3"},
		{g, "nobody", "", "x", -1, ""},
		{g, "only.a", "", "x", -1, ""},
		{a, "only.a", "", "x", -1, "RMSG A only.a 1"},
	} {
		n := pub.Publish(tc.acc, []byte(tc.subj), []byte(tc.reply), tc.hdr, []byte(tc.msg))
		pub.Flush()
		if tc.want == "" {
			assert.Equal(t, n, 0)
			continue
		}
		assert.Equal(t, n, 1)
		assert.Equal(t, p.lineSkippingPings(), tc.want)
		assert.Equal(t, p.payload(len(tc.msg)), tc.msg)
	}
	p.send("PING\r\n")
	assert.Equal(t, p.lineSkippingPings(), "PONG", "nothing more was sent")
	r := tc.Routes()[0]
	assert.Equal(t, r.OutMsgs, int64(6))
	_, _, outMsgs, outBytes := tc.Counts()
	assert.Equal(t, outMsgs, int64(6))
	assert.Equal(t, outBytes, int64(5+5+5+14+3+1))
}

// TestHeadersToOldServer: a server whose INFO says headers:false gets
// the payload alone in an RMSG.
func TestHeadersToOldServer(t *testing.T) {
	tc := startCluster(t, nil)
	p, _ := tc.dialPeer()
	info := strings.Replace(peerInfo("OLD", "OLD", 7000), `"headers":true`, `"headers":false`, 1)
	p.send("%s%s", peerConnect("OLD", ""), info)
	p.send("RS+ $G h\r\nPING\r\n")
	assert.Equal(t, p.lineSkippingPings(), "PONG")
	pub := conn.NewProducer(tc.sh, false)
	pub.Publish(tc.sh.Accounts.Load().Global(), []byte("h"), nil, 12, []byte("NATS/1.0\r\n\r\nhi"))
	pub.Flush()
	assert.Equal(t, p.lineSkippingPings(), "RMSG $G h 2")
	assert.Equal(t, p.payload(2), "hi")
}

// TestRoutedMessagesDelivered: the peer's RMSG and HMSG reach local
// subscribers; an account this server does not have is dropped (its
// interest too), logged once; nothing goes back to the route.
func TestRoutedMessagesDelivered(t *testing.T) {
	tc := startCluster(t, nil)
	var mu sync.Mutex
	var got []string
	g := tc.sh.Accounts.Load().Global()
	_, err := g.SubscribeInternal("foo", "1", func(subj, reply, hdr, msg []byte) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%s %q %q %s", subj, reply, hdr, msg))
	})
	assert.NilError(t, err)
	p := tc.register("NP1")
	assert.Equal(t, p.lineSkippingPings(), "RS+ $G foo")
	p.send("RS+ $G foo\r\nRS+ NOPE foo\r\n")
	p.send("RMSG $G foo 2\r\nhi\r\nRMSG $G foo + r.1 q1 2\r\nho\r\nHMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhe\r\n")
	p.send("RMSG NOPE foo 1\r\nx\r\nRMSG NOPE foo 1\r\nx\r\nPING\r\n")
	assert.Equal(t, p.lineSkippingPings(), "PONG", "no message came back")
	mu.Lock()
	assert.DeepEqual(t, got, []string{`foo "" "" hi`, `foo "r.1" "" ho`, `foo "" "NATS/1.0\r\n\r\n" he`})
	mu.Unlock()
	assert.DeepEqual(t, tc.Routes()[0].Subs, []string{"foo"})
	assert.Equal(t, strings.Count(tc.logs.String(), `Unknown account "NOPE"`), 1)
	inMsgs, _, _, _ := tc.Counts()
	assert.Equal(t, inMsgs, int64(5))

	// The route's interest leaves with it.
	p.nc.Close()
	tc.closedFor(conn.ClientClosed, 1)
	assert.Assert(t, tc.router.remoteIndex("$G").Match("foo").Empty())
}

// TestQueueChoiceWeighted: with no local member, a queue group's
// messages go to the servers in proportion to their RS+ weights, each
// message to one of them.
func TestQueueChoiceWeighted(t *testing.T) {
	tc := startCluster(t, nil)
	p1 := tc.register("NP1")
	p2 := tc.register("NP2")
	p1.send("RS+ $G work w 1\r\nPING\r\n")
	p2.send("RS+ $G work w 3\r\nPING\r\n")
	assert.Assert(t, strings.HasPrefix(p1.lineSkippingPings(), "INFO "), "the gossip about NP2")
	assert.Equal(t, p1.lineSkippingPings(), "PONG")
	assert.Equal(t, p2.lineSkippingPings(), "PONG")
	pub := conn.NewProducer(tc.sh, false)
	g := tc.sh.Accounts.Load().Global()
	const n = 400
	for range n {
		assert.Equal(t, pub.Publish(g, []byte("work"), nil, -1, []byte("x")), 1)
	}
	pub.Flush()
	count := func(p *peer) int {
		p.send("PING\r\n")
		k := 0
		for l := p.lineSkippingPings(); l != "PONG"; l = p.lineSkippingPings() {
			if l == "RMSG $G work | w 1" {
				k++
			}
		}
		return k
	}
	c1, c2 := count(p1), count(p2)
	assert.Equal(t, c1+c2, n)
	// Expected 100 and 300; the bounds are far outside chance.
	assert.Assert(t, c1 > 40 && c1 < 170, "NP1 (weight 1) got %d of %d", c1, n)
}

// TestRouteSnapshotJSON keeps the subscriptions list shape of /routez.
func TestRouteSnapshotJSON(t *testing.T) {
	tc := startCluster(t, nil)
	p := tc.register("NP1")
	p.send("RS+ $G b\r\nRS+ $G a q 2\r\nPING\r\n")
	assert.Equal(t, p.lineSkippingPings(), "PONG")
	b, err := json.Marshal(tc.Routes()[0].Subs)
	assert.NilError(t, err)
	assert.Equal(t, string(b), `["a","b"]`)
}

// TestRoutedQueueFallback: a peer's message for a queue group this server
// has no member of goes on to the server that has one, naming only that
// group; a message without a queue list goes nowhere else.
func TestRoutedQueueFallback(t *testing.T) {
	tc := startCluster(t, nil)
	p1 := tc.register("NP1")
	p2 := tc.register("NP2")
	assert.Assert(t, strings.HasPrefix(p1.lineSkippingPings(), "INFO "), "the gossip about NP2")
	p2.send("RS+ $G foo workers 2\r\nRS+ $G foo\r\nPING\r\n")
	assert.Equal(t, p2.lineSkippingPings(), "PONG")
	p1.send("RMSG $G foo | workers 2\r\nhi\r\nRMSG $G foo + r.1 workers 2\r\nho\r\nRMSG $G foo 2\r\nno\r\nPING\r\n")
	assert.Equal(t, p1.lineSkippingPings(), "PONG")
	assert.Equal(t, p2.lineSkippingPings(), "RMSG $G foo | workers 2")
	assert.Equal(t, p2.payload(2), "hi")
	assert.Equal(t, p2.lineSkippingPings(), "RMSG $G foo + r.1 workers 2")
	assert.Equal(t, p2.payload(2), "ho")
	p2.send("PING\r\n")
	assert.Equal(t, p2.lineSkippingPings(), "PONG", "nothing more went to NP2")
}
