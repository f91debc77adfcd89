package lifecycle

import (
	"math/rand/v2"
	"sync"
)

// lockedSource makes one random source safe to share: the lame-duck drain
// and every connection's reader draw from the server's one source.
type lockedSource struct {
	mu  sync.Mutex
	src rand.Source
}

func (l *lockedSource) Uint64() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.src.Uint64()
}
