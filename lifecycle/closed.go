package lifecycle

import (
	"sync/atomic"

	"github.com/natsd/natsd/conn"
)

// closedRing keeps snapshots of the most recently closed connections for
// monitoring, dropping the oldest beyond its size (max_closed_clients).
type closedRing struct {
	max  int
	buf  []conn.Snapshot
	next int // where the next one goes once buf is full
}

func newClosedRing(max int) *closedRing { return &closedRing{max: max} }

func (r *closedRing) add(s conn.Snapshot) {
	switch {
	case r.max <= 0:
	case len(r.buf) < r.max:
		r.buf = append(r.buf, s)
	default:
		r.buf[r.next] = s
		r.next = (r.next + 1) % r.max
	}
}

// list returns the kept snapshots, oldest first.
func (r *closedRing) list() []conn.Snapshot {
	out := make([]conn.Snapshot, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

// closedTally counts closed connections per close reason since the server
// was created; index 0 holds any reason outside the known range.
type closedTally [conn.NumClosedStates + 1]atomic.Int64

func (t *closedTally) add(r conn.ClosedState) {
	if r < 0 || int(r) >= len(t) {
		r = 0
	}
	t[r].Add(1)
}

func (t *closedTally) counts() []int64 {
	out := make([]int64, len(t))
	for i := range t {
		out[i] = t[i].Load()
	}
	return out
}

// onConnClosed is every connection's hook on entering Closed: it counts
// the close reason, then lets the registry move the connection to the
// closed ring. Counting first means a reader never sees a connection
// neither registered as open or closing nor counted as closed.
func (s *Server) onConnClosed(c *conn.Conn) {
	s.closedBy.add(c.Reason())
	s.connClosed(c)
}

// connClosed is called by each connection as it enters Closed.
// The snapshot is taken before the server lock: with thousands of
// connections closing at once (a shutdown), they would otherwise queue on
// that lock while each copies its counters.
func (s *Server) connClosed(c *conn.Conn) {
	snap := c.Snapshot()
	s.mu.Lock()
	delete(s.clients, c.CID())
	s.closed.add(snap)
	s.mu.Unlock()
	s.sysDisconnected(snap)
}
