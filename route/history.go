package route

import (
	"sync"
	"sync/atomic"

	"github.com/natsd/natsd/internal/machine"
)

// Transition is one recorded move of one route's machine.
type Transition struct {
	RID      uint64 `json:"rid"`
	RemoteID string `json:"remote_id,omitempty"`
	URL      string `json:"url,omitempty"`
	machine.Transition
}

// history keeps the last route transitions of a cluster in a bounded ring.
// Readers get an immutable copy through an atomic pointer and never wait
// for a writer.
type history struct {
	mu   sync.Mutex // serialises writers only
	max  int
	snap atomic.Pointer[[]Transition]
}

func (h *history) record(t Transition) {
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

func (h *history) snapshot() []Transition {
	if p := h.snap.Load(); p != nil {
		return *p
	}
	return nil
}
