package subject

import (
	"fmt"
	"testing"
)

// benchIndex is a moderately busy index: 1000 literal service subjects, a
// few wildcards over them, and queue groups.
func benchIndex(b *testing.B) *Index[int] {
	b.Helper()
	ix := NewIndex[int]()
	item := 0
	add := func(subject, queue string) {
		if err := ix.Insert(subject, queue, item); err != nil {
			b.Fatal(err)
		}
		item++
	}
	for i := range 1000 {
		add(fmt.Sprintf("svc.%d.req", i), "")
		add(fmt.Sprintf("svc.%d.req", i), "workers")
	}
	add("svc.*.req", "")
	add("svc.>", "")
	add("svc.*.req", "workers")
	add(">", "audit")
	add("*.*.req", "")
	return ix
}

// BenchmarkMatchLiteralCached is the hot path: a publish to a subject whose
// answer is cached.
func BenchmarkMatchLiteralCached(b *testing.B) {
	ix := benchIndex(b)
	const subject = "svc.42.req"
	ix.Match(subject)
	b.ReportAllocs()
	for b.Loop() {
		ix.Match(subject)
	}
}

// BenchmarkMatchLiteralCachedParallel is the hot path from many goroutines.
func BenchmarkMatchLiteralCachedParallel(b *testing.B) {
	ix := benchIndex(b)
	subjects := []string{"svc.1.req", "svc.2.req", "svc.3.req", "svc.4.req"}
	for _, s := range subjects {
		ix.Match(s)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			ix.Match(subjects[i%len(subjects)])
			i++
		}
	})
}

// BenchmarkMatchWildcard matches a subject that only wildcard subscriptions
// catch: "cached" is the steady state, "miss" walks the trie every time (as
// after an Insert or Remove cleared the entry).
func BenchmarkMatchWildcard(b *testing.B) {
	ix := benchIndex(b)
	const subject = "svc.unknown.req"
	b.Run("cached", func(b *testing.B) {
		ix.Match(subject)
		b.ReportAllocs()
		for b.Loop() {
			ix.Match(subject)
		}
	})
	b.Run("miss", func(b *testing.B) {
		h := ix.cache.hash(subject)
		b.ReportAllocs()
		for b.Loop() {
			ix.matchAndCache(h, subject)
		}
	})
}

// BenchmarkInsertRemove subscribes and unsubscribes once per iteration in a
// busy index. A literal subject clears at most one cache entry; a wildcard
// scans the whole cache for the entries it matches. "warm" fills the cache
// with 1024 live entries the wildcard does not match, so each Insert scans
// them all; the others measure steady churn.
func BenchmarkInsertRemove(b *testing.B) {
	for _, tc := range []struct {
		name, subject string
		warm          bool
	}{
		{"literal", "svc.42.req", false},
		{"wildcard", "svc.*.req", false},
		{"wildcard/warm", "svc.*.req", true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ix := benchIndex(b)
			for i := range 2 * cacheSize {
				ix.Match(fmt.Sprintf("svc.%d.req", i))
			}
			if tc.warm {
				for i := range 2 * cacheSize {
					ix.Match(fmt.Sprintf("other.%d.req", i))
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := ix.Insert(tc.subject, "", -1); err != nil {
					b.Fatal(err)
				}
				if err := ix.Remove(tc.subject, "", -1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// spaceMatching are the ten patterns of a subject-space group (see
// bench/space.go): all match sp.G.a.b.c.
var spaceMatching = [...]string{"a.b.c", "*.b.c", "a.*.c", "a.b.*", "*.*.c", "*.b.*", "a.*.*", "*.*.*", "a.>", ">"}

// spaceSubject is subscription i of the subject-space bench row: groups of
// 20, ten literal subjects sp.G.l.0 … sp.G.l.9, then the ten patterns.
func spaceSubject(i int) string {
	g, j := i/20, i%20
	if j < 10 {
		return fmt.Sprintf("sp.%d.l.%d", g, j)
	}
	return fmt.Sprintf("sp.%d.%s", g, spaceMatching[j-10])
}

// BenchmarkInsertSpace is the subscribe step of the subject-space bench
// row: new subscriptions of its mix (55% literal, 45% wildcard, each group
// of 20 under a new second token) into an index already holding 100,000 of
// them. "cold" has one cached subject, as in the row; "warm" has a full
// cache of subjects under sp, none of which the new subscriptions match.
// One op is one Insert.
func BenchmarkInsertSpace(b *testing.B) {
	const preload = 100_000
	for _, warm := range []bool{false, true} {
		name := "cold"
		if warm {
			name = "warm"
		}
		b.Run(name, func(b *testing.B) {
			ix := NewIndex[int]()
			for i := range preload {
				if err := ix.Insert(spaceSubject(i), "", i); err != nil {
					b.Fatal(err)
				}
			}
			ix.Match("sp.50.a.b.c")
			if warm {
				for i := range 2 * cacheSize {
					ix.Match(fmt.Sprintf("sp.%d.a.b.c", i%(preload/20)))
				}
			}
			subjects := make([]string, 20*1000)
			for i := range subjects {
				subjects[i] = spaceSubject(preload + i)
			}
			b.ReportAllocs()
			i, k := 0, 0
			for b.Loop() {
				if k == len(subjects) {
					b.StopTimer()
					for j := range subjects {
						subjects[j] = spaceSubject(preload + i + j)
					}
					k = 0
					b.StartTimer()
				}
				if err := ix.Insert(subjects[k], "", preload+i); err != nil {
					b.Fatal(err)
				}
				i++
				k++
			}
		})
	}
}

// BenchmarkMatchReplySubjects is the request/reply pattern: each reply is
// published once, to a new subject (_INBOX.<id>.<n>) that the requester's
// wildcard subscription (_INBOX.<id>.*) matches, while a request subject
// stays hot. "one-wildcard": nothing else matches the replies; "catch-all":
// a ">" queue group (as in benchIndex) matches them too.
func BenchmarkMatchReplySubjects(b *testing.B) {
	for _, tc := range []struct {
		name     string
		catchAll bool
	}{{"one-wildcard", false}, {"catch-all", true}} {
		b.Run(tc.name, func(b *testing.B) {
			ix := NewIndex[int]()
			for i := range 1000 {
				if err := ix.Insert(fmt.Sprintf("svc.%d.req", i), "", i); err != nil {
					b.Fatal(err)
				}
			}
			if tc.catchAll {
				if err := ix.Insert(">", "audit", -100); err != nil {
					b.Fatal(err)
				}
			}
			for r := range 10 {
				if err := ix.Insert(fmt.Sprintf("_INBOX.requester%02dAbCdEfGhIjKlMn.*", r), "", -1-r); err != nil {
					b.Fatal(err)
				}
			}
			// More distinct replies than the cache holds many times over:
			// by the time one comes round again it is long forgotten.
			replies := make([]string, 1<<16)
			for i := range replies {
				replies[i] = fmt.Sprintf("_INBOX.requester%02dAbCdEfGhIjKlMn.%d", i%10, i)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s := replies[i%len(replies)]
				if r := ix.Match(s); len(r.Plain) != 1 {
					b.Fatalf("%s: %d matches", s, len(r.Plain))
				}
				ix.Match("svc.42.req") // a request subject
				i++
			}
		})
	}
}
