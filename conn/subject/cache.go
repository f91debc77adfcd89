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

// cacheEntry is one cached answer. It is immutable once stored.
type cacheEntry[T comparable] struct {
	subject string // owned copy
	result  *Result[T]
}

// cache maps literal publish subjects to their [Result]. Lookups take no lock
// and write nothing shared. The rules that keep it correct (see the package
// invariants):
//   - put is called only while the index's read lock is held, with a result
//     computed under that same lock hold;
//   - forget and forgetMatching are called only while the write lock is held.
//
// So no entry computed before a change can be stored after the change clears
// the slots it affects.
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

// get returns the cached result for subject, whose hash is h, or nil.
func (c *cache[T]) get(h uint64, subject string) *Result[T] {
	ways := c.set(h)
	for i := range ways {
		if e := ways[i].Load(); e != nil && e.subject == subject {
			return e.result
		}
	}
	return nil
}

// put stores r for subject, whose hash is h. It replaces an entry for the same
// subject, else fills an empty way, else evicts the way chosen by the high
// bits of h. The read lock must be held.
func (c *cache[T]) put(h uint64, subject string, r *Result[T]) {
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
	ways[victim].Store(&cacheEntry[T]{subject: strings.Clone(subject), result: r})
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

// invalidate clears every entry a change to subscriptions on subject can
// affect. The write lock must be held.
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
