package conn

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/natsd/natsd/account"
	"gotest.tools/v3/assert"
)

// fakeRouter records what the connections tell the cluster; its Plan
// takes the queue groups named in take, its Send counts as one route
// (none when told gone) and records the fallbacks.
type fakeRouter struct {
	mu        sync.Mutex
	changes   []string
	forwards  []string
	fallbacks []string
	take      map[string]bool
	gone      bool // the route is closing: Send returns the groups taken
}

func (f *fakeRouter) InterestChanged(acc, subject, queue string, delta int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, fmt.Sprintf("%s %s %q %+d", acc, subject, queue, delta))
}

func (f *fakeRouter) Plan(m *Outgoing) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, g := range m.Queues {
		if f.take[g[0].Queue()] {
			m.Taken[i] = true
		}
	}
	return true
}

func (f *fakeRouter) Send(m *Outgoing) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fallbacks = append(f.fallbacks, m.Fallback...)
	if f.gone {
		for i, taken := range m.Taken {
			if taken {
				m.Returned = append(m.Returned, i)
			}
		}
		return 0
	}
	f.forwards = append(f.forwards, m.Account.Name()+" "+string(m.Subject)+" "+string(m.Reply))
	return 1
}

func (f *fakeRouter) takeChanges() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.changes
	f.changes = nil
	return out
}

// routedShared returns a Shared with the router rt and the accounts of
// cfg.
func routedShared(t *testing.T, rt Router, cfg account.Config) *Shared {
	t.Helper()
	sh := &Shared{Stats: &Stats{}, Router: rt}
	accs, err := NewAccounts(cfg, "$SYS", nil, nil, rt)
	assert.NilError(t, err)
	sh.Accounts.Store(accs)
	return sh
}

func routedConn(t *testing.T, sh *Shared) *Conn {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c := New(1, a, &Config{MaxControlLine: 4096, MaxPayload: 1 << 20, MaxPending: 1 << 20}, sh)
	c.opts.Verbose, c.opts.Headers = false, true
	return c
}

// Every change of interest reaches the router: clients' subscriptions,
// their shadows in the accounts whose streams they import, and service
// responses, not a service import's own subscription; a closed
// connection's subscriptions leave.
func TestInterestReachesTheRouter(t *testing.T) {
	rt := &fakeRouter{}
	cfg := account.Config{Accounts: []account.Account{
		{Name: "A", Exports: []account.Export{{Kind: account.Stream, Subject: "e.>"}, {Kind: account.Service, Subject: "svc"}}},
		{Name: "B", Imports: []account.Import{
			{Kind: account.Stream, Account: "A", Subject: "e.>", Prefix: "a"},
			{Kind: account.Service, Account: "A", Subject: "svc"},
		}},
	}}
	sh := routedShared(t, rt, cfg)
	changes := rt.takeChanges()
	assert.Equal(t, len(changes), 1, "%v", changes)
	assert.Assert(t, strings.HasPrefix(changes[0], "A _R_."), "the service responses: %s", changes[0])

	b := routedConn(t, sh)
	b.auth.acc = sh.accounts().Lookup("B")
	assert.NilError(t, (*protoHandler)(b).OnSub([]byte("a.e.x"), []byte("q"), []byte("1")))
	// The shadow, in the exporter.
	assert.DeepEqual(t, rt.takeChanges(), []string{`B a.e.x "q" +1`, `A e.x "q" +1`})
	assert.NilError(t, (*protoHandler)(b).OnUnsub([]byte("1"), 0))
	assert.DeepEqual(t, rt.takeChanges(), []string{`B a.e.x "q" -1`, `A e.x "q" -1`})

	c := routedConn(t, sh)
	h := (*protoHandler)(c)
	assert.NilError(t, h.OnSub([]byte("foo"), nil, []byte("1")))
	assert.NilError(t, h.OnSub([]byte("bar"), []byte("q"), []byte("2")))
	assert.NilError(t, h.OnSub([]byte("baz"), nil, []byte("3")))
	assert.NilError(t, h.OnUnsub([]byte("1"), 0))
	assert.DeepEqual(t, rt.takeChanges(), []string{`$G foo "" +1`, `$G bar "q" +1`, `$G baz "" +1`, `$G foo "" -1`})
	c.enterClosed()
	got := rt.takeChanges()
	assert.Equal(t, len(got), 2)
	assert.Assert(t, (got[0] == `$G bar "q" -1` && got[1] == `$G baz "" -1`) || (got[1] == `$G bar "q" -1` && got[0] == `$G baz "" -1`), "%v", got)
}

// A local publish goes to the router, which may take queue groups away
// from local delivery; a route counts as one delivery (no no-responders).
// What a route's producer delivers never goes back to the router, and
// reaches plain subscribers and only the queue groups it lists.
func TestRoutedDelivery(t *testing.T) {
	rt := &fakeRouter{take: map[string]bool{"taken": true}}
	sh := routedShared(t, rt, account.Config{})
	pub, plain, qTaken, qKept := routedConn(t, sh), routedConn(t, sh), routedConn(t, sh), routedConn(t, sh)
	for i, c := range []*Conn{plain, qTaken, qKept} {
		queue := []byte(nil)
		if i == 1 {
			queue = []byte("taken")
		} else if i == 2 {
			queue = []byte("kept")
		}
		assert.NilError(t, (*protoHandler)(c).OnSub([]byte("foo"), queue, []byte("1")))
	}
	acc := sh.accounts().Global()
	assert.Equal(t, pub.deliverIn(acc, []byte("foo"), nil, -1, []byte("x"), 0, true), 3, "plain, kept, and one route")
	assert.Equal(t, plain.outMsgs.Load(), int64(1))
	assert.Equal(t, qTaken.outMsgs.Load(), int64(0), "the group another server took")
	assert.Equal(t, qKept.outMsgs.Load(), int64(1))
	assert.DeepEqual(t, rt.forwards, []string{"$G foo "})

	p := NewProducer(sh, true)
	n, err := p.DeliverRouted([]byte("$G"), []byte("foo"), []byte("r"), -1, []byte("y"), [][]byte{[]byte("taken")})
	assert.NilError(t, err)
	assert.Equal(t, n, 2)
	p.Flush()
	assert.Equal(t, plain.outMsgs.Load(), int64(2))
	assert.Equal(t, qTaken.outMsgs.Load(), int64(1), "a listed group gets one")
	assert.Equal(t, qKept.outMsgs.Load(), int64(1), "an unlisted group gets none")
	n, err = p.DeliverRouted([]byte("$G"), []byte("foo"), nil, -1, []byte("z"), nil)
	assert.NilError(t, err)
	assert.Equal(t, n, 1, "no queue list: plain subscribers only")
	assert.Equal(t, len(rt.forwards), 1, "nothing from a route goes back to the routes")
	_, err = p.DeliverRouted([]byte("nope"), []byte("foo"), nil, -1, nil, nil)
	assert.ErrorIs(t, err, ErrUnknownAccount)
}

// An internal subscription (not a socket client) receives what local
// producers and routes publish in its account, and its interest reaches
// the router; a Producer publishes into an account as a client would,
// the routes included.
func TestInternalSubscription(t *testing.T) {
	rt := &fakeRouter{}
	sh := routedShared(t, rt, account.Config{})
	sys := sh.accounts().System()
	var got []string
	s, err := sys.SubscribeInternal("$SYS.REQ.>", "1", func(subj, reply, hdr, msg []byte) {
		got = append(got, fmt.Sprintf("%s %s %q %s", subj, reply, hdr, msg))
	})
	assert.NilError(t, err)
	assert.DeepEqual(t, rt.takeChanges(), []string{`$SYS $SYS.REQ.> "" +1`})

	p := NewProducer(sh, false)
	assert.Equal(t, p.Publish(sys, []byte("$SYS.REQ.SERVER.PING"), []byte("_INBOX.1"), -1, []byte("{}")), 2, "the handler and one route")
	routed := NewProducer(sh, true)
	_, err = routed.DeliverRouted([]byte("$SYS"), []byte("$SYS.REQ.X"), nil, 0, []byte("hi"), nil)
	assert.NilError(t, err)
	assert.DeepEqual(t, got, []string{`$SYS.REQ.SERVER.PING _INBOX.1 "" {}`, `$SYS.REQ.X  "" hi`})
	assert.DeepEqual(t, rt.forwards, []string{"$SYS $SYS.REQ.SERVER.PING _INBOX.1"})
	sys.UnsubscribeInternal(s)
	sys.UnsubscribeInternal(s)
	assert.DeepEqual(t, rt.takeChanges(), []string{`$SYS $SYS.REQ.> "" -1`})
	_, err = sys.SubscribeInternal("x", "2", nil)
	assert.ErrorContains(t, err, "without a handler")
}
