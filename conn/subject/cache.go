package subject

import (
	"hash/maphash"
	"math/bits"
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
//     held: by an Insert for the nodes it creates (each new prefix of a
//     literal subject forgotten by its slot, all those of a wildcard in
//     one scan), and by a Remove.
//
// So no entry can miss a node created after its walk, and changes to a
// node it holds are seen through the node's snapshot.
//
// A scan for the entries a wildcard matches visits only the slots marked
// in used, and reads an entry's subject only when its slot's signature
// (signature.go) does not already rule it out; so its cost follows the
// entries that could match, not the cache's size. No put runs during a
// scan (puts hold the read lock), so used and sigs are stable meanwhile.
type cache[T comparable] struct {
	seed  maphash.Seed
	slots [cacheSize]atomic.Pointer[cacheEntry[T]]
	// used marks every slot that may hold an entry: put sets the bit (puts
	// only ever set bits), a clear under the write lock drops it.
	used [cacheSize / 64]atomic.Uint64
	// sigs holds each slot's entry's signature, or 0 (not known: the
	// entry must be read). Two puts racing for one slot leave the
	// signature of the winner or 0, never the loser's (see put).
	sigs [cacheSize]atomic.Uint32
}

func (c *cache[T]) init() { c.seed = maphash.MakeSeed() }

func (c *cache[T]) hash(subject string) uint64 {
	return maphash.String(c.seed, subject)
}

// set returns the ways of the set that subject hash h falls in, and the
// index of its first slot.
func (c *cache[T]) set(h uint64) ([]atomic.Pointer[cacheEntry[T]], int) {
	i := int(h%cacheSets) * cacheWays
	return c.slots[i : i+cacheWays : i+cacheWays], i
}

// get returns the cached entry for subject, whose hash is h, or nil.
func (c *cache[T]) get(h uint64, subject string) *cacheEntry[T] {
	ways, _ := c.set(h)
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
	ways, first := c.set(h)
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
	slot := first + victim
	ways[victim].Store(e)
	c.used[slot/64].Or(1 << (slot % 64))
	// A put racing for this slot stores its own entry, then its
	// signature: whichever entry stays, the signature left is its own or
	// 0, because each put that sees it lost the slot withdraws the
	// signature it stored.
	c.sigs[slot].Store(sigOf(e.subject))
	if ways[victim].Load() != e {
		c.sigs[slot].Store(0)
	}
	return e
}

// clear empties slot i. The write lock must be held.
func (c *cache[T]) clear(i int) {
	c.slots[i].Store(nil)
	c.sigs[i].Store(0)
	c.used[i/64].And(^(1 << (i % 64)))
}

// forget clears the entry for the literal subject, if cached. The write lock
// must be held.
func (c *cache[T]) forget(subject string) {
	ways, first := c.set(c.hash(subject))
	for i := range ways {
		if e := ways[i].Load(); e != nil && e.subject == subject {
			c.clear(first + i)
		}
	}
}

// forgetMatching clears every entry whose subject matches pattern or one
// of its prefixes ending at token from or later (0 is the first token):
// with from the last token, the entries pattern matches. The write lock
// must be held. It visits the used slots only, and reads the subject of
// those whose signature pattern's filter admits.
func (c *cache[T]) forgetMatching(pattern string, from int) {
	f := filterOf(pattern, from)
	for w := range c.used {
		word := c.used[w].Load()
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if sig := c.sigs[i].Load(); sig != 0 && !f.admits(sig) {
				continue
			}
			if e := c.slots[i].Load(); e == nil || prefixMatches(pattern, e.subject, from) {
				c.clear(i)
			}
		}
	}
}

// invalidate clears every entry whose subject the subscription subject
// matches: the entries whose walk would now reach a node created for it.
// The write lock must be held.
func (c *cache[T]) invalidate(subject string) {
	if hasWildcard(subject) {
		c.forgetMatching(subject, tokenCount(subject)-1)
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
// tokens are all taken literally. It does not allocate.
func patternMatches(pattern, s string) bool {
	return prefixMatches(pattern, s, tokenCount(pattern)-1)
}
