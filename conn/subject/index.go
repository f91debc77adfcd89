package subject

import (
	"errors"
	"fmt"
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
// It is safe for concurrent use. A Match whose answer is cached takes no lock
// and writes no shared memory; a miss takes the read lock, so it waits only
// for a running Insert or Remove. Create an Index with [NewIndex]; the zero
// value is not usable.
type Index[T comparable] struct {
	mu    sync.RWMutex
	root  level[T] // guarded by mu
	count atomic.Int64
	empty *Result[T] // the one result returned for "no match"
	cache cache[T]
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
// Inserting a triple already stored does nothing and returns nil.
func (ix *Index[T]) Insert(subject, queue string, item T) error {
	if !ValidSubject(subject) {
		return fmt.Errorf("insert %q: %w", subject, ErrInvalidSubject)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.root.insert(subject, queue, item) {
		ix.count.Add(1)
		ix.cache.invalidate(subject)
	}
	return nil
}

// Remove deletes the subscription (subject, queue, item). The error wraps
// [ErrInvalidSubject] if subject fails [ValidSubject], or [ErrNotFound] if
// the triple is not stored.
func (ix *Index[T]) Remove(subject, queue string, item T) error {
	if !ValidSubject(subject) {
		return fmt.Errorf("remove %q: %w", subject, ErrInvalidSubject)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.root.remove(subject, queue, item) {
		return fmt.Errorf("remove %q queue %q: %w", subject, queue, ErrNotFound)
	}
	ix.count.Add(-1)
	ix.cache.invalidate(subject)
	return nil
}

// Match returns the subscriptions matching the publish subject. Every token
// of subject is taken literally (validate with [ValidLiteralSubject] first);
// a subject with an empty token matches nothing. The result is never nil, is
// shared and must not be modified. Match does not retain subject.
func (ix *Index[T]) Match(subject string) *Result[T] {
	h := ix.cache.hash(subject)
	if r := ix.cache.get(h, subject); r != nil {
		return r
	}
	return ix.matchAndCache(h, subject)
}

// matchAndCache walks the trie for subject, whose hash is h, and caches the
// answer while still holding the read lock (see [cache]).
func (ix *Index[T]) matchAndCache(h uint64, subject string) *Result[T] {
	var buf [32]string
	toks, ok := tokenize(subject, buf[:0])
	if !ok {
		return ix.empty
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	r := ix.walk(toks)
	ix.cache.put(h, subject, r)
	return r
}

// walk collects the subscriptions matching toks. The read lock must be held.
func (ix *Index[T]) walk(toks []string) *Result[T] {
	var c collector[T]
	ix.root.collect(toks, &c)
	return c.result(ix.empty)
}

// Count returns the number of stored subscriptions. It takes no lock.
func (ix *Index[T]) Count() int {
	return int(ix.count.Load())
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
