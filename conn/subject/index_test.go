package subject

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// deep has more tokens than the walk's stack buffer holds.
var deep = strings.Repeat("t.", 40) + "end"

func TestMatch(t *testing.T) {
	ix := newFixture(t, []sub{
		{deep, "", "deep"},
		{"t.*.>", "", "t.*.>"},
		{"foo", "", "foo"},
		{"foo.bar", "", "foo.bar"},
		{"foo.*", "", "foo.*"},
		{"foo.>", "", "foo.>"},
		{">", "", ">"},
		{"*", "", "*"},
		{"*.bar", "", "*.bar"},
		{"*.*.baz", "", "*.*.baz"},
		{"foo.bar.baz", "", "foo.bar.baz"},
		{"foo.*bar", "", "foo.*bar"}, // "*bar" is a literal token
		{"foo.bar>", "", "foo.bar>"}, // "bar>" is a literal token
		{"a.*.c.>", "", "a.*.c.>"},
		{"a.b.*", "", "a.b.*"},
		// One item under two matching subjects is delivered twice.
		{"foo.bar", "", "twice"},
		{"foo.*", "", "twice"},
	})
	tests := []struct {
		subject string
		want    []string
	}{
		{"foo", items("foo", ">", "*")},
		{"foo.bar", items("foo.bar", "foo.*", "foo.>", ">", "*.bar", "twice", "twice")},
		{"foo.baz", items("foo.*", "foo.>", ">", "twice")},
		{"foo.bar.baz", items("foo.bar.baz", "foo.>", ">", "*.*.baz")},
		{"foo.bar.qux", items("foo.>", ">")},
		{"x.y.baz", items(">", "*.*.baz")},
		{"bar", items(">", "*")},
		{"x.bar", items(">", "*.bar")},
		{"foo.*bar", items("foo.*bar", "foo.*", "foo.>", ">", "twice")},
		{"foo.xbar", items("foo.*", "foo.>", ">", "twice")},
		{"foo.bar>", items("foo.bar>", "foo.*", "foo.>", ">", "twice")},
		// Wildcard characters in a publish subject are taken literally: only
		// wildcard subscriptions match them.
		{"foo.*", items("foo.*", "foo.>", ">", "twice")},
		{"foo.>", items("foo.*", "foo.>", ">", "twice")},
		{"*", items(">", "*")},
		{"a.b", items(">")},
		{"a.b.c", items(">", "a.b.*")},
		{"a.b.c.d", items(">", "a.*.c.>")},
		{"a.x.c.d.e", items(">", "a.*.c.>")},
		{"a.x.d.d", items(">")},
		{deep, items("deep", "t.*.>", ">")},
		{deep + ".more", items("t.*.>", ">")},
		{"t.x", items(">")},
		{"t.x.y", items("t.*.>", ">")},
		// Malformed publish subjects match nothing, not even ">".
		{"", nil},
		{".", nil},
		{".foo", nil},
		{"foo.", nil},
		{"foo..bar", nil},
		{"..", nil},
	}
	for _, tc := range tests {
		t.Run(tc.subject, func(t *testing.T) {
			// Twice: the first walks the trie, the second hits the cache.
			checkMatch(t, ix, tc.subject, view{Plain: tc.want})
			checkMatch(t, ix, tc.subject, view{Plain: tc.want})
		})
	}
}

func TestMatchQueues(t *testing.T) {
	ix := newFixture(t, []sub{
		{"orders.*", "workers", "w1"},
		{"orders.new", "workers", "w2"},
		{"orders.>", "workers", "w3"},
		{"orders.old", "workers", "w4"},
		{"orders.new", "workers", "w1"}, // same group, second subject
		{"orders.new", "audit", "a1"},
		{"orders.*", "audit", "a2"},
		{"orders.new", "", "p1"},
		{"orders.new", "", "w2"}, // an item may be plain and queued
		{">", "all", "x1"},
	})
	tests := []struct {
		subject string
		want    view
	}{
		{"orders.new", view{
			Plain:  items("p1", "w2"),
			Queues: [][]string{items("a1", "a2"), items("w1", "w1", "w2", "w3"), items("x1")},
		}},
		{"orders.old", view{
			Queues: [][]string{items("a2"), items("w1", "w3", "w4"), items("x1")},
		}},
		{"orders.x.y", view{Queues: [][]string{items("w3"), items("x1")}}},
		{"orders", view{Queues: [][]string{items("x1")}}},
		{"other.new", view{Queues: [][]string{items("x1")}}},
	}
	for _, tc := range tests {
		t.Run(tc.subject, func(t *testing.T) {
			checkMatch(t, ix, tc.subject, tc.want)
			checkMatch(t, ix, tc.subject, tc.want)
		})
	}
}

func TestInsertRemove(t *testing.T) {
	ix := NewIndex[string]()
	const insert, remove = "insert", "remove"
	steps := []struct {
		op                   string
		subject, queue, item string
		wantErr              error
		wantCount            int
	}{
		{insert, "foo", "", "a", nil, 1},
		{insert, "foo", "", "a", nil, 1}, // already stored: no change
		{insert, "foo", "q", "a", nil, 2},
		{insert, "foo", "", "b", nil, 3},
		{insert, "foo.*", "", "a", nil, 4},
		{insert, "foo.>", "q", "a", nil, 5},
		{insert, "", "", "a", ErrInvalidSubject, 5},
		{insert, "foo..bar", "", "a", ErrInvalidSubject, 5},
		{insert, ">.a", "", "a", ErrInvalidSubject, 5},
		{insert, "foo bar", "", "a", ErrInvalidSubject, 5},
		{insert, "foo.", "q", "a", ErrInvalidSubject, 5},
		{remove, "foo", "", "c", ErrNotFound, 5},
		{remove, "foo", "other", "a", ErrNotFound, 5},
		{remove, "foo.bar", "", "a", ErrNotFound, 5}, // foo.* is stored, not foo.bar
		{remove, "foo.>", "", "a", ErrNotFound, 5},   // stored with queue q
		{remove, "foo.bar.baz", "", "a", ErrNotFound, 5},
		{remove, "a..b", "", "a", ErrInvalidSubject, 5},
		{remove, "", "", "a", ErrInvalidSubject, 5},
		{remove, "foo.*", "", "a", nil, 4},
		{remove, "foo.*", "", "a", ErrNotFound, 4},
		{remove, "foo", "", "a", nil, 3},
		{remove, "foo", "q", "a", nil, 2},
		{remove, "foo", "", "b", nil, 1},
		{remove, "foo.>", "q", "a", nil, 0},
		{remove, "foo", "", "b", ErrNotFound, 0},
	}
	for i, s := range steps {
		var err error
		switch s.op {
		case insert:
			err = ix.Insert(s.subject, s.queue, s.item)
		case remove:
			err = ix.Remove(s.subject, s.queue, s.item)
		}
		if !errors.Is(err, s.wantErr) || (err == nil) != (s.wantErr == nil) {
			t.Errorf("step %d: %s(%q, %q, %q) = %v, want %v", i, s.op, s.subject, s.queue, s.item, err, s.wantErr)
		}
		if got := ix.Count(); got != s.wantCount {
			t.Errorf("step %d: %s(%q, %q, %q): Count() = %d, want %d", i, s.op, s.subject, s.queue, s.item, got, s.wantCount)
		}
	}
	if !ix.root.empty() {
		t.Errorf("trie not pruned after removing everything: %+v", ix.root)
	}
}

func TestRemovePrunes(t *testing.T) {
	subjects := []string{
		"a", "a.b", "a.b.c", "a.*", "a.>", "*", ">", "*.b.>", "a.b.c.d.e.f",
		"x.y.z", "x.*.z", "x.y.*", "*.*.*", "deep.1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33",
	}
	queues := []string{"", "q1", "q2"}
	ix := NewIndex[int]()
	for i, s := range subjects {
		for _, q := range queues {
			for item := range 3 {
				if err := ix.Insert(s, q, i*10+item); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if want := len(subjects) * len(queues) * 3; ix.Count() != want {
		t.Fatalf("Count() = %d, want %d", ix.Count(), want)
	}
	// Remove in an order unrelated to insertion.
	for item := 2; item >= 0; item-- {
		for _, q := range queues {
			for i := len(subjects) - 1; i >= 0; i-- {
				if err := ix.Remove(subjects[i], q, i*10+item); err != nil {
					t.Fatalf("Remove(%q, %q, %d): %v", subjects[i], q, i*10+item, err)
				}
			}
		}
	}
	if ix.Count() != 0 {
		t.Errorf("Count() = %d, want 0", ix.Count())
	}
	if !ix.root.empty() {
		t.Errorf("trie not pruned after removing everything: %+v", ix.root)
	}
}

func TestRemoveKeepsOthers(t *testing.T) {
	// Removing from the middle of a large node must keep every other member
	// (removal swaps the last member into the hole).
	ix := NewIndex[string]()
	const n = 100
	for i := range n {
		if err := ix.Insert("big", "", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for i := range n {
		if i%3 == 0 {
			if err := ix.Remove("big", "", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want = append(want, fmt.Sprint(i))
	}
	checkMatch(t, ix, "big", view{Plain: items(want...)})
}

func TestErrorsCarrySubject(t *testing.T) {
	ix := NewIndex[int]()
	err := ix.Insert("a..b", "", 1)
	if want := `insert "a..b": invalid subject`; err == nil || err.Error() != want {
		t.Errorf("Insert error = %v, want %q", err, want)
	}
	err = ix.Remove("a.b", "q", 1)
	if want := `remove "a.b" queue "q": subscription not found`; err == nil || err.Error() != want {
		t.Errorf("Remove error = %v, want %q", err, want)
	}
}

// TestAll: every stored item, once per (subject, queue) it is stored
// under, wildcards and queue groups included.
func TestAll(t *testing.T) {
	ix := NewIndex[string]()
	if got := ix.All(); len(got) != 0 {
		t.Fatalf("All() of an empty index = %v", got)
	}
	for _, s := range []struct{ subject, queue, item string }{
		{"foo", "", "a"}, {"foo", "q", "b"}, {"foo.*", "", "c"}, {"foo.>", "q", "d"},
		{">", "", "e"}, {"bar.baz", "r", "f"}, {"foo", "", "g"}, {"foo.*", "q", "a"},
	} {
		if err := ix.Insert(s.subject, s.queue, s.item); err != nil {
			t.Fatal(err)
		}
	}
	got := ix.All()
	slices.Sort(got)
	if want := []string{"a", "a", "b", "c", "d", "e", "f", "g"}; !slices.Equal(got, want) {
		t.Errorf("All() = %v, want %v", got, want)
	}
}
