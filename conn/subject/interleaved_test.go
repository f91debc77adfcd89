package subject

import (
	"math/rand/v2"
	"testing"
)

// TestInterleavedOpsAgainstReference toggles random subscriptions (Insert
// or InsertOwned when absent, Remove when present) between Matches of
// random subjects, so that every change meets cached entries: after each
// change the Matches must agree with the reference. It covers the cache
// invalidation of Inserts that create nodes (one scan for all the new
// prefixes of a wildcard, one slot each for a literal) and of Removes.
func TestInterleavedOpsAgainstReference(t *testing.T) {
	var subs []fuzzSub
	for _, p := range subjectsOf([]string{"a", "b", "*", ">"}, 3) {
		if !ValidSubject(p) {
			continue
		}
		for _, q := range []string{"", "q", "r"} {
			subs = append(subs, fuzzSub{subject: p, queue: q})
		}
	}
	pubs := subjectsOf([]string{"a", "b", "c"}, 4)
	rng := rand.New(rand.NewPCG(1, 2))
	ix := NewIndex[int]()
	for op := range 5000 {
		i := rng.IntN(len(subs))
		s := &subs[i]
		var err error
		switch {
		case s.stored:
			err = ix.Remove(s.subject, s.queue, i)
		case op%2 == 0:
			err = ix.Insert(s.subject, s.queue, i)
		default:
			err = ix.InsertOwned(s.subject, s.queue, i)
		}
		if err != nil {
			t.Fatalf("op %d on %q %q: %v", op, s.subject, s.queue, err)
		}
		s.stored = !s.stored
		for range 4 {
			pub := pubs[rng.IntN(len(pubs))]
			if got, want := viewOf(t, subs, ix.Match(pub)), refMatch(subs, pub); !got.equal(want) {
				t.Fatalf("op %d (%q %q stored=%v): Match(%q) = %+v, want %+v", op, s.subject, s.queue, s.stored, pub, got, want)
			}
		}
	}
}
