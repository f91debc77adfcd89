package lifecycle

import (
	"math/rand/v2"
	"sync"
)

// connRand returns the source the connections draw their seeds from: its
// own, seeded once from rnd and safe for concurrent use (the readers draw
// from it at once). The drain keeps rnd to itself, so its plan does not
// depend on how many connections came before.
func connRand(rnd *rand.Rand) *rand.Rand {
	return rand.New(&lockedSource{src: rand.NewPCG(rnd.Uint64(), rnd.Uint64())})
}

// lockedSource makes a random source safe for concurrent use.
type lockedSource struct {
	mu  sync.Mutex
	src rand.Source
}

func (l *lockedSource) Uint64() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.src.Uint64()
}
