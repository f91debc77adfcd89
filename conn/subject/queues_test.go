package subject

import (
	"fmt"
	"runtime"
	"testing"
	"time"
	"weak"
)

// A subject cached while nothing matched it, whose node is then created on
// the way to a longer subject, sees a subscription later added to that
// node (the Insert that created the node cleared the entry).
func TestCacheSeesNodeCreatedOnTheWay(t *testing.T) {
	for _, tc := range []struct{ longer, sub, pub string }{
		{"a.b", "a", "a"},
		{"a.*.c", "a.*", "a.x"},
		{"*.b.c", "*", "x"},
	} {
		t.Run(tc.longer, func(t *testing.T) {
			ix := NewIndex[string]()
			checkMatch(t, ix, tc.pub, view{})
			if err := ix.Insert(tc.longer, "", "longer"); err != nil {
				t.Fatal(err)
			}
			checkMatch(t, ix, tc.pub, view{})
			if err := ix.Insert(tc.sub, "", "x"); err != nil {
				t.Fatal(err)
			}
			checkMatch(t, ix, tc.pub, view{Plain: items("x")})
		})
	}
}

// queueIndex returns an index with groups queue groups of one member each
// on "q", its entry cached.
func queueIndex(t testing.TB, groups int) *Index[string] {
	ix := NewIndex[string]()
	for i := range groups {
		if err := ix.Insert("q", fmt.Sprint("g", i), fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	ix.Match("q")
	return ix
}

// Adding a queue group to a subject with many groups, and matching it
// again, costs a number of allocations that grows only with the depth of
// the group list (log32 of the groups), not with the groups: the Insert
// copies one path of the list, and the new result copies the members into
// one array, not one slice per group (which cost 20,000 allocations here
// before, and a rebuild quadratic in the groups).
func TestQueueGroupChangeCostIsFlat(t *testing.T) {
	allocs := func(groups int) float64 {
		ix := queueIndex(t, groups)
		i := 0
		return testing.AllocsPerRun(50, func() {
			name := fmt.Sprint("new", i)
			i++
			if err := ix.Insert("q", name, name); err != nil {
				t.Fatal(err)
			}
			if n := len(ix.Match("q").Queues); n != groups+1 {
				t.Fatalf("%d groups, want %d", n, groups+1)
			}
			if err := ix.Remove("q", name, name); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(10), allocs(20000)
	// 20,000 groups make the list two levels deeper than 10 do.
	if large > 2*small {
		t.Errorf("Insert + Match + Remove allocate %.0f times with 20,000 groups, %.0f with 10", large, small)
	}
}

// A result is built without the index lock: while one is built for a
// subject with many groups, an unrelated Insert and Remove complete.
func TestResultIsBuiltWithoutTheLock(t *testing.T) {
	ix := queueIndex(t, 1000)
	if err := ix.Insert("q", "new", "new"); err != nil { // the entry must be rebuilt
		t.Fatal(err)
	}
	done := make(chan error, 1)
	testHookBuild = func() {
		testHookBuild = nil
		go func() {
			err := ix.Insert("other", "", "x")
			if err == nil {
				err = ix.Remove("other", "", "x")
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(10 * time.Second):
			t.Error("an unrelated Insert waited for a result being built")
			<-done
		}
	}
	defer func() { testHookBuild = nil }()
	if n := len(ix.Match("q").Queues); n != 1001 {
		t.Fatalf("%d groups, want 1001", n)
	}
}

// A removed subscription's item is not kept reachable by the index: not
// by a cached result, a kept single-node result, a snapshot or a node's
// lists (an item is typically a connection's subscription, which reaches
// the whole connection).
func TestRemovedItemIsNotRetained(t *testing.T) {
	for _, tc := range []struct {
		name     string
		subjects []string // the removed item's subscriptions
		others   []string // keep[0]'s, beside "a.b"
		match    []string // matched once before the removal ("a.b" always)
		cached   bool     // "a.b" cached, else matched once
	}{
		{name: "cached, three nodes", subjects: []string{"a.b", "a.*", ">"}, cached: true},
		{name: "matched once, three nodes", subjects: []string{"a.b", "a.*", ">"}},
		{name: "matched once, one node", subjects: []string{"a.b"}},
		// "x" and "x.*" are made for the removed item and then lead to
		// other subscriptions, so they stay after its removal.
		{name: "nodes that stay", subjects: []string{"a.b", "a.*", ">", "x", "x.*"}, others: []string{"x.y", "x.*.z"}, match: []string{"x"}, cached: true},
	} {
		for _, queue := range []string{"", "q"} {
			t.Run(tc.name+"/queue="+queue, func(t *testing.T) {
				// Items of 64 bytes: smaller ones may share a block with
				// others (Go's tiny allocator) and so stay reachable anyway.
				type item = *[64]byte
				ix := NewIndex[item]()
				keep := make([]item, 40) // enough to make the lists more than one leaf
				for i := range keep {
					keep[i] = new([64]byte)
					if err := ix.Insert("a.b", queue, keep[i]); err != nil {
						t.Fatal(err)
					}
				}
				gone := new([64]byte)
				w := weak.Make(gone)
				for _, s := range tc.subjects {
					if err := ix.Insert(s, queue, gone); err != nil {
						t.Fatal(err)
					}
				}
				for _, s := range tc.others {
					if err := ix.Insert(s, queue, keep[0]); err != nil {
						t.Fatal(err)
					}
				}
				ix.Match("a.b")
				if tc.cached {
					ix.Match("a.b")
				}
				for _, s := range tc.match {
					ix.Match(s)
				}
				for _, s := range tc.subjects {
					if err := ix.Remove(s, queue, gone); err != nil {
						t.Fatal(err)
					}
				}
				gone = nil // and no Match of "a.b" since: the index is as the removal left it
				runtime.GC()
				if w.Value() != nil {
					t.Errorf("a removed item is still reachable")
				}
				runtime.KeepAlive(keep)
				runtime.KeepAlive(ix)
			})
		}
	}
}
