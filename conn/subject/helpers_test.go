package subject

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// sub is one subscription of a test fixture.
type sub struct {
	subject, queue, item string
}

// view is a Result in a canonical, comparable form: items sorted, groups
// sorted by their contents, empty slices as nil.
type view struct {
	Plain  []string
	Queues [][]string
}

func (v view) String() string { return fmt.Sprintf("plain %q queues %q", v.Plain, v.Queues) }

func canon(r *Result[string]) view {
	var v view
	if len(r.Plain) > 0 {
		v.Plain = slices.Sorted(slices.Values(r.Plain))
	}
	for _, g := range r.Queues {
		v.Queues = append(v.Queues, slices.Sorted(slices.Values(g)))
	}
	slices.SortFunc(v.Queues, func(a, b []string) int {
		return strings.Compare(strings.Join(a, ","), strings.Join(b, ","))
	})
	return v
}

func newFixture(t testing.TB, subs []sub) *Index[string] {
	t.Helper()
	ix := NewIndex[string]()
	for _, s := range subs {
		if err := ix.Insert(s.subject, s.queue, s.item); err != nil {
			t.Fatalf("Insert(%q, %q, %q): %v", s.subject, s.queue, s.item, err)
		}
	}
	return ix
}

func checkMatch(t *testing.T, ix *Index[string], subject string, want view) {
	t.Helper()
	if got := canon(ix.Match(subject)); !reflect.DeepEqual(got, want) {
		t.Errorf("Match(%q):\n got %v\nwant %v", subject, got, want)
	}
}

// warm has each subject cached: a subject is cached when it misses a
// second time (see once.go).
func warm(ix *Index[string], subjects ...string) {
	for _, s := range subjects {
		ix.Match(s)
		ix.Match(s)
	}
}

// items is shorthand for a sorted list of items.
func items(s ...string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(s))
}
