package subject

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// The cache is set-associative: cacheSets sets of cacheWays slots, so it
// holds at most cacheSize results, like nats-server's 1024.
const (
	cacheWays = 2
	cacheSets = 512
	cacheSize = cacheSets * cacheWays
)

// cacheEntry is one cached subject: the trie nodes its walk reached and
// the last result built from their snapshots. subject and nodes are
// immutable once stored; memo is replaced whenever a node's snapshot moved
// on.
type cacheEntry[T comparable] struct {
	subject string     // owned copy
	nodes   []*node[T] // every node at which a matching subscription subject ends
	memo    atomic.Pointer[memo[T]]
}

// memo is a result and the node snapshots it was built from.
type memo[T comparable] struct {
	snaps  []*nodeSnap[T] // snaps[i] was nodes[i].snap
	result *Result[T]
	// gen is an index generation at which snaps were the nodes' snapshots
	// (see Index.gen).
	gen atomic.Uint64
}

// current reports whether m was built from the nodes' present snapshots.
func (m *memo[T]) current(nodes []*node[T]) bool {
	for i, n := range nodes {
		if n.snap.Load() != m.snaps[i] {
			return false
		}
	}
	return true
}

// cache maps literal publish subjects to the nodes that hold their
// matches. Lookups take no lock and write nothing shared unless a node
// changed since the entry's result was built. The rules that keep it
// correct (see the package invariants):
//   - put is called only while the index's read lock is held, with nodes
//     collected under that same lock hold;
//   - forget and forgetMatching are called only while the write lock is
//     held, by an Insert for each node it creates.
//
// So no entry can miss a node created after its walk, and changes to a
// node it holds are seen through the node's snapshot.
type cache[T comparable] struct {
	seed  maphash.Seed
	slots [cacheSize]atomic.Pointer[cacheEntry[T]]
}

func (c *cache[T]) init() { c.seed = maphash.MakeSeed() }

func (c *cache[T]) hash(subject string) uint64 {
	return maphash.String(c.seed, subject)
}

// set returns the ways of the set that subject hash h falls in.
func (c *cache[T]) set(h uint64) []atomic.Pointer[cacheEntry[T]] {
	i := int(h%cacheSets) * cacheWays
	return c.slots[i : i+cacheWays : i+cacheWays]
}

// get returns the cached entry for subject, whose hash is h, or nil.
func (c *cache[T]) get(h uint64, subject string) *cacheEntry[T] {
	ways := c.set(h)
	for i := range ways {
		if e := ways[i].Load(); e != nil && e.subject == subject {
			return e
		}
	}
	return nil
}

// put stores and returns a new entry for subject, whose hash is h, holding
// nodes (which the entry then owns). It replaces an entry for the same
// subject, else fills an empty way, else evicts the way chosen by the high
// bits of h. The read lock must be held.
func (c *cache[T]) put(h uint64, subject string, nodes []*node[T]) *cacheEntry[T] {
	ways := c.set(h)
	victim := -1
	for i := range ways {
		e := ways[i].Load()
		if e != nil && e.subject == subject {
			victim = i
			break
		}
		if e == nil && victim < 0 {
			victim = i
		}
	}
	if victim < 0 {
		victim = int(h>>32) % cacheWays
	}
	e := &cacheEntry[T]{subject: strings.Clone(subject), nodes: nodes}
	ways[victim].Store(e)
	return e
}

// forget clears the entry for the literal subject, if cached. The write lock
// must be held.
func (c *cache[T]) forget(subject string) {
	ways := c.set(c.hash(subject))
	for i := range ways {
		if e := ways[i].Load(); e != nil && e.subject == subject {
			ways[i].Store(nil)
		}
	}
}

// forgetMatching clears every entry whose subject the wildcard pattern
// matches. The write lock must be held.
func (c *cache[T]) forgetMatching(pattern string) {
	for i := range c.slots {
		if e := c.slots[i].Load(); e != nil && patternMatches(pattern, e.subject) {
			c.slots[i].Store(nil)
		}
	}
}

// invalidate clears every entry whose subject the subscription subject
// matches: the entries whose walk would now reach a node created for it.
// The write lock must be held.
func (c *cache[T]) invalidate(subject string) {
	if hasWildcard(subject) {
		c.forgetMatching(subject)
		return
	}
	c.forget(subject)
}

// len counts the stored entries; for tests and stats.
func (c *cache[T]) len() int {
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	return n
}

// patternMatches reports whether the subscription subject pattern (valid,
// wildcards allowed) matches the publish subject s (no empty tokens), whose
// tokens are all taken literally. It walks both strings once, byte by byte,
// and does not allocate.
func patternMatches(pattern, s string) bool {
	i, j := 0, 0 // at the start of a token in pattern and in s
	for {
		switch {
		case pattern[i] == '>' && i+1 == len(pattern):
			return j < len(s) // one or more tokens left
		case pattern[i] == '*' && (i+1 == len(pattern) || pattern[i+1] == sep):
			if j == len(s) {
				return false
			}
			i++
			if k := strings.IndexByte(s[j:], sep); k >= 0 {
				j += k
			} else {
				j = len(s)
			}
		default:
			for ; i < len(pattern) && pattern[i] != sep; i, j = i+1, j+1 {
				if j == len(s) || s[j] != pattern[i] {
					return false
				}
			}
			if j < len(s) && s[j] != sep {
				return false // s's token is longer
			}
		}
		// Both at a separator or at the end.
		if i == len(pattern) || j == len(s) {
			return i == len(pattern) && j == len(s)
		}
		i, j = i+1, j+1
	}
}
