package lifecycle

import "github.com/natsd/natsd/conn"

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
