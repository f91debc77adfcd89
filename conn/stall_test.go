package conn

import (
	"testing"

	"gotest.tools/v3/assert"
)

// A publisher that stalls on a slow receiver first wakes the writers of
// the other receivers it queued to in the same read, so that their
// messages do not wait out the stall (up to 10 ms per read).
func TestStallWakesOtherReceiversFirst(t *testing.T) {
	pub, _ := newTestConn(t)
	fast, _ := newTestConn(t)
	slow, _ := newTestConn(t)
	fastSub := &Subscription{conn: fast, subject: "fast", sid: "1"}
	slowSub := &Subscription{conn: slow, subject: "slow", sid: "1"}
	slow.mu.Lock()
	slow.out.stall = make(chan struct{}) // its writer is behind; nothing opens the gate
	slow.mu.Unlock()

	assert.Assert(t, pub.deliver(fastSub, []byte("fast"), nil, -1, []byte("x")))
	_, waiting := pub.pcd[fast]
	assert.Assert(t, waiting, "a quiet receiver is woken at the end of the read")
	assert.Assert(t, pub.deliver(slowSub, []byte("slow"), nil, -1, []byte("x")))
	_, waiting = pub.pcd[fast]
	assert.Assert(t, !waiting, "the fast receiver's writer was not woken before the stall")
	assert.Assert(t, pub.stalled > 0, "the publisher did not stall")
}
