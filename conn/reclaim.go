package conn

import (
	"runtime/debug"
	"sync"
	"time"
)

// Giving memory back. A connection closed with a large backlog (a slow
// consumer holds up to max_pending, 64 MiB by default) drops its output
// chunks rather than pooling them, but dropping is not enough for the
// process to shrink: the Go runtime frees the chunks only at its next
// garbage collection, an idle server allocates nothing and so runs none
// until the runtime's forced one (every two minutes), and only then can the
// scavenger hand the pages back to the operating system. (Pooled, as natsd
// used to do, they would have stayed reachable for two more collections.)
// So once closed connections have dropped reclaimMin bytes, a collection
// and a return of free memory to the operating system (debug.FreeOSMemory)
// are run reclaimDelay later, batching a burst of closes, and at most once
// per reclaimEvery. This is process-wide, as the memory is.
const (
	reclaimMin   = 4 << 20
	reclaimDelay = time.Second
	reclaimEvery = 10 * time.Second
)

var reclaimer struct {
	mu       sync.Mutex
	dropped  int64       // bytes dropped since the last return
	timer    *time.Timer // the scheduled return, nil when none
	lastDone time.Time
}

// reclaim records that a closed connection dropped n bytes of output
// chunks and schedules a return of free memory once enough was dropped.
func reclaim(n int64) {
	if n <= 0 {
		return
	}
	r := &reclaimer
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropped += n
	if r.dropped < reclaimMin || r.timer != nil {
		return
	}
	delay := max(reclaimDelay, time.Until(r.lastDone.Add(reclaimEvery)))
	r.timer = time.AfterFunc(delay, func() {
		r.mu.Lock()
		r.dropped, r.timer = 0, nil
		r.mu.Unlock()
		debug.FreeOSMemory()
		r.mu.Lock()
		r.lastDone = time.Now()
		r.mu.Unlock()
	})
}
