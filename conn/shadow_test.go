package conn

import (
	"slices"
	"testing"

	"github.com/natsd/natsd/account"
	"gotest.tools/v3/assert"
)

// queued returns what c has queued for its socket, and forgets it.
func queued(c *Conn) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.out.take())
}

// importsConfig: B imports A's e.> under the prefix "a".
func importsConfig(prefix string) account.Config {
	return account.Config{Accounts: []account.Account{
		{Name: "A", Exports: []account.Export{{Kind: account.Stream, Subject: "e.>"}}},
		{Name: "B", Imports: []account.Import{{Kind: account.Stream, Account: "A", Subject: "e.>", Prefix: prefix}}},
	}}
}

// connIn returns a connection of account name.
func connIn(t *testing.T, sh *Shared, name string) *Conn {
	c := routedConn(t, sh)
	c.auth.acc = sh.accounts().Lookup(name)
	queued(c) // the INFO
	return c
}

// TestShadowSubscriptions: a subscription of the importing account that
// takes a stream import has a shadow in the exporter, with its queue
// group, whose interest reaches the cluster; a message published in the
// exporter reaches it under the import's subject; unsubscribing and
// closing take the shadows away.
func TestShadowSubscriptions(t *testing.T) {
	rt := &fakeRouter{}
	sh := routedShared(t, rt, importsConfig("a"))
	assert.Equal(t, len(rt.takeChanges()), 0, "no interest before a subscription")
	b := connIn(t, sh, "B")
	h := (*protoHandler)(b)
	for _, step := range []struct {
		subject, queue, sid string
		want                []string
	}{
		{"a.e.x", "q", "1", []string{`B a.e.x "q" +1`, `A e.x "q" +1`}},
		{">", "", "2", []string{`B > "" +1`, `A e.> "" +1`}},
		{"other", "", "3", []string{`B other "" +1`}},
		{"a.*.y", "", "4", []string{`B a.*.y "" +1`, `A e.y "" +1`}},
	} {
		var queue []byte
		if step.queue != "" {
			queue = []byte(step.queue)
		}
		assert.NilError(t, h.OnSub([]byte(step.subject), queue, []byte(step.sid)))
		assert.DeepEqual(t, rt.takeChanges(), step.want)
	}
	a := sh.accounts().Lookup("A")
	assert.Equal(t, a.Index.Count(), 3)

	pub := connIn(t, sh, "A")
	assert.Equal(t, pub.deliverIn(a, []byte("e.x"), nil, -1, []byte("hi"), 0, true), 3, "two shadows and the route")
	assert.Equal(t, queued(b), "MSG a.e.x 2 2\r\nhi\r\nMSG a.e.x 1 2\r\nhi\r\n")
	assert.Equal(t, pub.deliverIn(a, []byte("e.y"), []byte("r"), -1, []byte("yo"), 0, true), 3)
	assert.Equal(t, queued(b), "MSG a.e.y 2 r 2\r\nyo\r\nMSG a.e.y 4 r 2\r\nyo\r\n")

	assert.NilError(t, h.OnUnsub([]byte("1"), 0))
	assert.DeepEqual(t, rt.takeChanges(), []string{`B a.e.x "q" -1`, `A e.x "q" -1`})
	b.enterClosed()
	got := rt.takeChanges()
	slices.Sort(got)
	assert.DeepEqual(t, got, []string{`A e.> "" -1`, `A e.y "" -1`, `B > "" -1`, `B a.*.y "" -1`, `B other "" -1`})
	assert.Equal(t, a.Index.Count(), 0)
}

// TestShadowQueueGroups: the importing account's queue group is a group
// of the exporter: each message reaches one member of it, and, as in
// nats-server, one member of it and of the exporter's own group of the
// same name together. An auto-unsubscribe counts deliveries through the
// shadow.
func TestShadowQueueGroups(t *testing.T) {
	sh := routedShared(t, nil, importsConfig("a"))
	a := sh.accounts().Lookup("A")
	b1, b2, own, pub := connIn(t, sh, "B"), connIn(t, sh, "B"), connIn(t, sh, "A"), connIn(t, sh, "A")
	for _, c := range []*Conn{b1, b2} {
		assert.NilError(t, (*protoHandler)(c).OnSub([]byte("a.e.x"), []byte("q"), []byte("1")))
	}
	const n = 300
	for range n {
		assert.Equal(t, pub.deliverIn(a, []byte("e.x"), nil, -1, []byte("x"), 0, true), 1)
	}
	assert.Equal(t, b1.outMsgs.Load()+b2.outMsgs.Load(), int64(n))
	assert.Assert(t, b1.outMsgs.Load() > 0 && b2.outMsgs.Load() > 0)

	assert.NilError(t, (*protoHandler)(own).OnSub([]byte("e.*"), []byte("q"), []byte("1")))
	b1.outMsgs.Store(0)
	b2.outMsgs.Store(0)
	for range n {
		assert.Equal(t, pub.deliverIn(a, []byte("e.x"), nil, -1, []byte("x"), 0, true), 1)
	}
	assert.Equal(t, b1.outMsgs.Load()+b2.outMsgs.Load()+own.outMsgs.Load(), int64(n))
	assert.Assert(t, own.outMsgs.Load() > 0 && b1.outMsgs.Load()+b2.outMsgs.Load() > 0)

	solo := connIn(t, sh, "B")
	assert.NilError(t, (*protoHandler)(solo).OnSub([]byte("a.e.z"), nil, []byte("9")))
	assert.NilError(t, (*protoHandler)(solo).OnUnsub([]byte("9"), 2))
	for range 3 {
		pub.deliverIn(a, []byte("e.z"), nil, -1, []byte("x"), 0, true)
	}
	assert.Equal(t, solo.outMsgs.Load(), int64(2), "auto-unsubscribed after 2")
	assert.Equal(t, a.Index.Count(), 3, "its shadow left with it")
}

// TestShadowsOnReload: a reload that changes an account's stream imports
// gives its subscriptions their new shadows; one that keeps them changes
// no interest.
func TestShadowsOnReload(t *testing.T) {
	rt := &fakeRouter{}
	sh := routedShared(t, rt, importsConfig("a"))
	a := sh.accounts().Lookup("A")
	b := connIn(t, sh, "B")
	assert.NilError(t, (*protoHandler)(b).OnSub([]byte("a.e.x"), nil, []byte("1")))
	assert.NilError(t, (*protoHandler)(b).OnSub([]byte("z.e.x"), nil, []byte("2")))
	rt.takeChanges()
	reload := func(cfg account.Config) []string {
		t.Helper()
		next, err := NewAccounts(cfg, "$SYS", nil, sh.accounts(), rt)
		assert.NilError(t, err)
		sh.Accounts.Store(next)
		changes := rt.takeChanges()
		slices.Sort(changes) // the subscriptions are visited in no order
		return changes
	}
	assert.Equal(t, len(reload(importsConfig("a"))), 0, "the same imports: nothing changes")
	// a.e.x's shadow leaves, z.e.x's comes.
	assert.DeepEqual(t, reload(importsConfig("z")), []string{`A e.x "" +1`, `A e.x "" -1`})
	pub := connIn(t, sh, "A")
	pub.deliverIn(a, []byte("e.x"), nil, -1, []byte("x"), 0, true)
	assert.Equal(t, queued(b), "MSG z.e.x 2 1\r\nx\r\n", "the new import's subject")
	noImports := importsConfig("a")
	noImports.Accounts[1].Imports = nil
	assert.DeepEqual(t, reload(noImports), []string{`A e.x "" -1`})
	assert.Equal(t, a.Index.Count(), 0)
	// An import added finds the subscriptions already there.
	assert.DeepEqual(t, reload(importsConfig("a")), []string{`A e.x "" +1`})
	b.enterClosed()
	assert.Equal(t, a.Index.Count(), 0)
}

// TestQueueFallback: a queue group this server chose a local member of,
// when every local member fails (the publisher itself with echo off, a
// closed connection), goes to another server's member; a group whose
// chosen route is gone comes back to a local member.
func TestQueueFallback(t *testing.T) {
	rt := &fakeRouter{}
	sh := routedShared(t, rt, account.Config{})
	g := sh.accounts().Global()
	pub, closed := routedConn(t, sh), routedConn(t, sh)
	pub.opts.Echo = false
	for _, c := range []*Conn{pub, closed} {
		assert.NilError(t, (*protoHandler)(c).OnSub([]byte("foo"), []byte("q"), []byte("1")))
	}
	closed.state.Store(int32(Closed))
	assert.Equal(t, pub.deliverIn(g, []byte("foo"), nil, -1, []byte("x"), 0, true), 1, "the route")
	assert.DeepEqual(t, rt.fallbacks, []string{"q"})
	assert.Equal(t, pub.outMsgs.Load()+closed.outMsgs.Load(), int64(0))

	live := routedConn(t, sh)
	assert.NilError(t, (*protoHandler)(live).OnSub([]byte("foo"), []byte("q"), []byte("1")))
	rt.fallbacks = nil
	for range 50 {
		assert.Equal(t, pub.deliverIn(g, []byte("foo"), nil, -1, []byte("x"), 0, true), 2)
	}
	assert.Equal(t, live.outMsgs.Load(), int64(50), "a live local member: no fallback")
	assert.Equal(t, len(rt.fallbacks), 0)

	rt.take, rt.gone = map[string]bool{"q": true}, true
	assert.Equal(t, pub.deliverIn(g, []byte("foo"), nil, -1, []byte("x"), 0, true), 1, "back to the local member")
	assert.Equal(t, live.outMsgs.Load(), int64(51))
}

// TestRoutedFallback: a routed message listing a queue group this server
// has no member of that can take it goes on to another server's member;
// a group delivered locally, or listed twice, does not.
func TestRoutedFallback(t *testing.T) {
	rt := &fakeRouter{}
	sh := routedShared(t, rt, account.Config{})
	member := routedConn(t, sh)
	assert.NilError(t, (*protoHandler)(member).OnSub([]byte("foo"), []byte("here"), []byte("1")))
	p := NewProducer(sh, true)
	n, err := p.DeliverRouted([]byte("$G"), []byte("foo"), nil, -1, []byte("x"),
		[][]byte{[]byte("here"), []byte("gone"), []byte("gone")})
	assert.NilError(t, err)
	assert.Equal(t, n, 2, "the local member and the route")
	assert.DeepEqual(t, rt.fallbacks, []string{"gone"})
	assert.Equal(t, member.outMsgs.Load(), int64(1))
	rt.fallbacks = nil
	n, err = p.DeliverRouted([]byte("$G"), []byte("foo"), nil, -1, []byte("x"), [][]byte{[]byte("here")})
	assert.NilError(t, err)
	assert.Equal(t, n, 1)
	assert.Equal(t, len(rt.fallbacks), 0)
	assert.Equal(t, len(rt.forwards), 1, "only the fallback went to a route")
}
