package conn

import (
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// Dropped output schedules one return of memory to the operating system
// once reclaimMin bytes were dropped, however many closes add to it, and
// the count starts again after the return.
func TestReclaimSchedulesOneReturn(t *testing.T) {
	r := &reclaimer
	scheduled := func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.timer != nil }
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if scheduled() {
			return poll.Continue("an earlier return is still scheduled")
		}
		return poll.Success()
	}, poll.WithTimeout(2*reclaimEvery))
	r.mu.Lock()
	r.dropped = 0
	r.mu.Unlock()

	reclaim(reclaimMin - 1)
	assert.Assert(t, !scheduled(), "under reclaimMin: nothing scheduled")
	reclaim(1)
	assert.Assert(t, scheduled())
	r.mu.Lock()
	first := r.timer
	r.mu.Unlock()
	reclaim(reclaimMin)
	r.mu.Lock()
	assert.Equal(t, r.timer, first, "one return for a burst of closes")
	r.mu.Unlock()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.timer == nil && !r.lastDone.IsZero() {
			return poll.Success()
		}
		return poll.Continue("waiting for the return")
	}, poll.WithTimeout(reclaimDelay+10*time.Second))
	r.mu.Lock()
	defer r.mu.Unlock()
	assert.Equal(t, r.dropped, int64(0))
}
