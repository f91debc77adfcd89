package machine

import (
	"sync"
	"sync/atomic"
	"time"
)

// Transition is one recorded state change.
type Transition struct {
	From  string    `json:"from"`
	To    string    `json:"to"`
	Event string    `json:"event"`
	Cause string    `json:"cause,omitempty"`
	At    time.Time `json:"at"`
}

// History keeps the last transitions of one machine in a bounded ring.
// Record is called by the machine's owner; Snapshot may be called from any
// goroutine and never waits for Record, because it reads an immutable copy
// published through an atomic pointer.
type History struct {
	mu   sync.Mutex // serialises writers only
	max  int
	snap atomic.Pointer[[]Transition]
}

// NewHistory returns a history that keeps at most max transitions.
func NewHistory(max int) *History {
	if max < 1 {
		max = 1
	}
	return &History{max: max}
}

// Record appends a transition, dropping the oldest beyond the bound.
func (h *History) Record(t Transition) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var old []Transition
	if p := h.snap.Load(); p != nil {
		old = *p
	}
	start := 0
	if len(old) >= h.max {
		start = len(old) - h.max + 1
	}
	next := make([]Transition, 0, len(old)-start+1)
	next = append(next, old[start:]...)
	next = append(next, t)
	h.snap.Store(&next)
}

// Snapshot returns the recorded transitions, oldest first. The caller must
// not modify the returned slice.
func (h *History) Snapshot() []Transition {
	if p := h.snap.Load(); p != nil {
		return *p
	}
	return nil
}
