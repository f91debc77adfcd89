package subject

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Errors returned by [Index.Insert] and [Index.Remove], wrapped with the
// subject; test with [errors.Is].
var (
	ErrInvalidSubject = errors.New("invalid subject")
	ErrNotFound       = errors.New("subscription not found")
)

// Index stores subscriptions and finds those matching a published subject.
// It is safe for concurrent use. A Match whose subject is cached takes no
// lock and, unless a subscription it matches changed since, writes no
// shared memory; a miss takes the read lock only to find the trie nodes
// the subject reaches. No lock is ever held for work that grows with the
// subscriptions of one subject: Insert and Remove change a node's sets in
// O(log n), and a result is built from the nodes' snapshots by the Match
// that needs it, outside the lock. Create an Index with [NewIndex]; the
// zero value is not usable.
type Index[T comparable] struct {
	mu    sync.RWMutex
	root  level[T] // guarded by mu
	count atomic.Int64
	// gen counts the changes made to the trie; each is counted after the
	// nodes' snapshots changed, so a result known current at gen g is
	// current for as long as gen is g.
	gen   atomic.Uint64
	empty *Result[T] // the one result returned for "no match"
	cache cache[T]
	// seen and single serve the subjects published once, such as replies
	// (see once.go): a subject is cached only when it misses a second time
	// while seen still remembers it, and the result of a subject that
	// reaches a single node comes from single instead of a new one.
	seen   [seenSize]atomic.Uint32
	single [singleSize]atomic.Pointer[nodeResult[T]]
}

// NewIndex returns an empty index.
func NewIndex[T comparable]() *Index[T] {
	ix := &Index[T]{empty: &Result[T]{}}
	ix.cache.init()
	return ix
}

// Insert stores the subscription (subject, queue, item); queue "" makes it a
// plain subscription. subject may hold wildcards and must satisfy
// [ValidSubject], else the error wraps [ErrInvalidSubject]. queue is an
// opaque name; checking it with [ValidQueue] is the caller's business.
// Inserting a triple already stored does nothing and returns nil. The
// index keeps copies of what it needs of subject and queue.
func (ix *Index[T]) Insert(subject, queue string, item T) error {
	return ix.insert(subject, queue, item, false)
}

// InsertOwned is [Index.Insert] for a caller whose subject and queue are
// its own immutable strings (made by copying, never aliasing a buffer
// that is reused): the index keeps substrings of them instead of copies,
// which saves an allocation per Insert that creates nodes.
func (ix *Index[T]) InsertOwned(subject, queue string, item T) error {
	return ix.insert(subject, queue, item, true)
}

func (ix *Index[T]) insert(subject, queue string, item T, owned bool) error {
	if !ValidSubject(subject) {
		return fmt.Errorf("insert %q: %w", subject, ErrInvalidSubject)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	added, firstNew := ix.root.insert(subject, queue, item, owned)
	if added {
		ix.count.Add(1)
	}
	if firstNew >= 0 {
		ix.forgetNewNodes(subject, firstNew)
	}
	if added || firstNew >= 0 {
		ix.gen.Add(1)
	}
	return nil
}

// forgetNewNodes clears the cache entries that could reach the nodes an
// Insert of subject created, those of its tokens firstNew onwards: for
// each, the entries its prefix of subject matches. For a literal subject
// each such prefix is one subject, so one slot each; a subject with a
// wildcard takes one scan of the cache for all of them. The write lock
// must be held.
func (ix *Index[T]) forgetNewNodes(subject string, firstNew int) {
	if hasWildcard(subject) {
		ix.cache.forgetMatching(subject, firstNew)
		return
	}
	depth := 0
	for i := 0; i <= len(subject); i++ {
		if i < len(subject) && subject[i] != sep {
			continue
		}
		if depth >= firstNew {
			ix.cache.forget(subject[:i])
		}
		depth++
	}
}

// Remove deletes the subscription (subject, queue, item). The error wraps
// [ErrInvalidSubject] if subject fails [ValidSubject], or [ErrNotFound] if
// the triple is not stored. It clears the cache entries its subject matches
// (one for a literal subject, a scan of the bounded cache for a wildcard),
// so that no cached result keeps the removed item, and what it references
// (a closed connection), reachable; the next Match of those subjects walks
// the trie for their nodes and builds their result outside the lock.
func (ix *Index[T]) Remove(subject, queue string, item T) error {
	if !ValidSubject(subject) {
		return fmt.Errorf("remove %q: %w", subject, ErrInvalidSubject)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	n := ix.root.remove(subject, queue, item)
	if n == nil {
		return fmt.Errorf("remove %q queue %q: %w", subject, queue, ErrNotFound)
	}
	ix.count.Add(-1)
	ix.cache.invalidate(subject)
	ix.forgetSingle(n)
	ix.gen.Add(1)
	return nil
}

// Match returns the subscriptions matching the publish subject. Every token
// of subject is taken literally (validate with [ValidLiteralSubject] first);
// a subject with an empty token matches nothing. The result is never nil, is
// shared and must not be modified. Match does not retain subject.
func (ix *Index[T]) Match(subject string) *Result[T] {
	h := ix.cache.hash(subject)
	if e := ix.cache.get(h, subject); e != nil {
		return ix.resultOf(e)
	}
	return ix.matchAndCache(h, subject)
}

// matchAndCache finds the nodes subject, whose hash is h, reaches and
// returns their result; it caches them if the subject missed recently
// already (see [Index.seenBefore]).
func (ix *Index[T]) matchAndCache(h uint64, subject string) *Result[T] {
	var buf [32]string
	toks, ok := tokenize(subject, buf[:0])
	if !ok {
		return ix.empty
	}
	var nbuf [8]*node[T]
	ix.mu.RLock()
	nodes := ix.root.collect(toks, nbuf[:0])
	if !ix.seenBefore(h) {
		ix.mu.RUnlock()
		return ix.resultOnce(nodes)
	}
	e := ix.cache.put(h, subject, slices.Clone(nodes))
	ix.mu.RUnlock()
	return ix.resultOf(e)
}

// resultOf returns the result for entry e: the memoized one while none of
// its nodes changed, else one built now from their snapshots (without any
// lock) and memoized. While nothing in the index changed since the memo
// was last checked, that is one atomic load; after a change, one load per
// node.
func (ix *Index[T]) resultOf(e *cacheEntry[T]) *Result[T] {
	g := ix.gen.Load()
	m := e.memo.Load()
	if m != nil {
		if m.gen.Load() == g {
			return m.result
		}
		if m.current(e.nodes) {
			m.gen.Store(g)
			return m.result
		}
	}
	snaps := make([]*nodeSnap[T], len(e.nodes))
	for i, n := range e.nodes {
		snaps[i] = n.snap.Load()
	}
	if testHookBuild != nil {
		testHookBuild()
	}
	r := buildResult(snaps, ix.empty)
	next := &memo[T]{snaps: snaps, result: r}
	next.gen.Store(g)
	e.memo.CompareAndSwap(m, next)
	return r
}

// testHookBuild, set by tests only, runs before each result is built.
var testHookBuild func()

// Count returns the number of stored subscriptions. It takes no lock.
func (ix *Index[T]) Count() int {
	return int(ix.count.Load())
}

// All returns every stored item, each once per (subject, queue) it is
// stored under, in no particular order. It holds the read lock while it
// walks the whole trie: it is for rare work (a reload), not for the
// publish path.
func (ix *Index[T]) All() []T {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]T, 0, ix.count.Load())
	return ix.root.appendAll(out)
}

// tokenize appends the '.'-separated tokens of s to toks. It reports false if
// s is empty or has an empty token.
func tokenize(s string, toks []string) ([]string, bool) {
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			if i == start {
				return nil, false
			}
			toks = append(toks, s[start:i])
			start = i + 1
		}
	}
	if start == len(s) {
		return nil, false
	}
	return append(toks, s[start:]), true
}
