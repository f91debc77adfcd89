package conn

import (
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// subscribeN gives c n subscriptions, as its reader would.
func subscribeN(t testing.TB, c *Conn, n int) {
	h := (*protoHandler)(c)
	c.opts.Verbose = false
	for i := range n {
		if err := h.OnSub(fmt.Appendf(nil, "s.%d", i), nil, fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// A snapshot copies none of the subscriptions (monitoring without subs=1
// must not pay for them, nor hold the connection for them): its cost is
// the same with 10 subscriptions as with 10,000, and it carries their
// number. SubjectList lists them when asked.
func TestSnapshotCopiesNoSubscription(t *testing.T) {
	allocs := func(n int) (float64, Snapshot) {
		c, _ := newTestConn(t)
		subscribeN(t, c, n)
		a := testing.AllocsPerRun(20, func() { c.Snapshot() })
		return a, c.Snapshot()
	}
	small, s10 := allocs(10)
	large, s10k := allocs(10000)
	assert.Assert(t, large <= small, "Snapshot allocates %v times with 10,000 subscriptions, %v with 10", large, small)
	assert.Equal(t, s10.NumSubs, 10)
	assert.Equal(t, s10k.NumSubs, 10000)
	assert.Assert(t, s10k.Subscriptions == nil)
	list := s10.SubjectList()
	slices.Sort(list)
	assert.DeepEqual(t, list, []string{"s.0", "s.1", "s.2", "s.3", "s.4", "s.5", "s.6", "s.7", "s.8", "s.9"})
}

// Listing the subscriptions (/connz?subs=1) holds the subscriptions' lock,
// never the one deliveries take: a message is delivered to the connection
// while its subscriptions are being listed.
func TestListingSubscriptionsDoesNotBlockDeliveries(t *testing.T) {
	c, peer := newTestConn(t)
	subscribeN(t, c, 1)
	go io.Copy(io.Discard, peer) // drain INFO
	c.live.Store(1)              // only the writer runs
	writerDone := make(chan struct{})
	go func() { c.writeLoop(); close(writerDone) }()
	pub, _ := newTestConn(t)

	c.subsMu.Lock() // a listing under way
	delivered := make(chan bool, 1)
	go func() {
		s := c.sh.Index.Match("s.0").Plain[0]
		delivered <- pub.deliver(s, []byte("s.0"), nil, -1, []byte("hi"))
	}()
	select {
	case ok := <-delivered:
		assert.Assert(t, ok)
	case <-time.After(10 * time.Second):
		t.Error("a delivery waited for the subscriptions' lock")
	}
	c.subsMu.Unlock()
	c.Close(ServerShutdown)
	<-writerDone
}
