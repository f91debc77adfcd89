package subject

import "unsafe"

// Subjects published once. Request/reply publishes every reply to a subject
// of its own (_INBOX.<id>.<n>, matched by the requester's _INBOX.<id>.*),
// never seen before and never seen again. Caching each one would cost an
// entry, its subject and its result, and would evict a subject that is
// published again (the requests'). So a miss caches its subject only when
// the subject missed recently already: seen remembers the hashes of the
// last misses (a slot per hash, the newest miss wins), and a subject that
// is not there is answered without an entry. Such an answer is built from
// the nodes' snapshots like any other; the common one, a single node (one
// wildcard subscription), comes from single: per node, the result of its
// present snapshot, so that answering a reply allocates nothing.
const (
	seenSize   = 1024 // recent misses remembered
	singleSize = 256  // nodes whose single-node result is kept
)

// nodeResult is the result of a subject that reaches node n alone, built
// from its snapshot snap.
type nodeResult[T comparable] struct {
	n      *node[T]
	snap   *nodeSnap[T]
	result *Result[T]
}

// seenBefore reports whether a subject of hash h missed recently and, if
// not, remembers that it did now. Lookups race benignly: at worst a
// subject is cached a miss later, or earlier, than it would be alone.
func (ix *Index[T]) seenBefore(h uint64) bool {
	slot := &ix.seen[(h>>16)%seenSize]
	tag := uint32(h>>32) | 1 // never the empty slot's 0
	if slot.Load() == tag {
		return true
	}
	slot.Store(tag)
	return false
}

// resultOnce returns the result for the nodes a subject reached, for a
// subject that is not cached: the single node's kept result, or one built
// now.
func (ix *Index[T]) resultOnce(nodes []*node[T]) *Result[T] {
	switch len(nodes) {
	case 0:
		return ix.empty
	case 1:
		return ix.singleResult(nodes[0])
	}
	var sbuf [8]*nodeSnap[T]
	snaps := sbuf[:0]
	for _, n := range nodes {
		snaps = append(snaps, n.snap.Load())
	}
	if testHookBuild != nil {
		testHookBuild()
	}
	return buildResult(snaps, ix.empty)
}

// singleResult returns the result of node n alone, built once per snapshot
// of n and kept in its slot of single.
func (ix *Index[T]) singleResult(n *node[T]) *Result[T] {
	s := n.snap.Load()
	if s == nil {
		return ix.empty
	}
	slot := &ix.single[singleSlot(n)]
	if m := slot.Load(); m != nil && m.n == n && m.snap == s {
		return m.result
	}
	if testHookBuild != nil {
		testHookBuild()
	}
	snaps := [1]*nodeSnap[T]{s}
	r := buildResult(snaps[:], ix.empty)
	m := &nodeResult[T]{n: n, snap: s, result: r}
	slot.Store(m)
	if n.snap.Load() != s {
		// A Remove changed the node meanwhile and may have looked at the
		// slot before the store: take back what may hold its item.
		slot.CompareAndSwap(m, nil)
	}
	return r
}

// forgetSingle drops the kept result of node n, which a Remove changed, so
// that no kept result holds a removed item (see the package invariants).
// The write lock must be held, and the node's new snapshot published: a
// Match that stores a result built from the old one after this sees the
// new snapshot and takes its store back (see [Index.singleResult]).
func (ix *Index[T]) forgetSingle(n *node[T]) {
	slot := &ix.single[singleSlot(n)]
	if m := slot.Load(); m != nil && m.n == n {
		slot.CompareAndSwap(m, nil)
	}
}

// singleSlot is the slot of single for node n: its address, hashed.
func singleSlot[T comparable](n *node[T]) uint64 {
	p := uint64(uintptr(unsafe.Pointer(n)))
	return (p * 0x9e3779b97f4a7c15 >> 32) % singleSize
}
