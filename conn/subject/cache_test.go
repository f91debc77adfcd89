package subject

import (
	"fmt"
	"testing"
	"unsafe"
)

// TestCacheInvalidation checks that a Match after each Insert or Remove sees
// the change, for every kind of subscription subject, while the subjects it
// cannot affect keep their cached results.
func TestCacheInvalidation(t *testing.T) {
	type op struct {
		remove        bool
		subject, item string
		queue         string
	}
	// Each published subject starts cached (empty or not) and is checked
	// after every step.
	published := []string{"foo.bar", "foo.baz", "foo", "other.bar", "foo.bar.baz"}
	steps := []struct {
		op   op
		want map[string]view // subjects not listed match nothing
	}{
		{op{subject: "foo.bar", item: "lit"}, map[string]view{
			"foo.bar": {Plain: items("lit")},
		}},
		{op{subject: "foo.*", item: "star"}, map[string]view{
			"foo.bar": {Plain: items("lit", "star")},
			"foo.baz": {Plain: items("star")},
		}},
		{op{subject: "*.bar", queue: "q", item: "qstar"}, map[string]view{
			"foo.bar":   {Plain: items("lit", "star"), Queues: [][]string{items("qstar")}},
			"foo.baz":   {Plain: items("star")},
			"other.bar": {Queues: [][]string{items("qstar")}},
		}},
		{op{subject: ">", item: "all"}, map[string]view{
			"foo.bar":     {Plain: items("lit", "star", "all"), Queues: [][]string{items("qstar")}},
			"foo.baz":     {Plain: items("star", "all")},
			"foo":         {Plain: items("all")},
			"other.bar":   {Plain: items("all"), Queues: [][]string{items("qstar")}},
			"foo.bar.baz": {Plain: items("all")},
		}},
		{op{remove: true, subject: "foo.bar", item: "lit"}, map[string]view{
			"foo.bar":     {Plain: items("star", "all"), Queues: [][]string{items("qstar")}},
			"foo.baz":     {Plain: items("star", "all")},
			"foo":         {Plain: items("all")},
			"other.bar":   {Plain: items("all"), Queues: [][]string{items("qstar")}},
			"foo.bar.baz": {Plain: items("all")},
		}},
		{op{remove: true, subject: ">", item: "all"}, map[string]view{
			"foo.bar":   {Plain: items("star"), Queues: [][]string{items("qstar")}},
			"foo.baz":   {Plain: items("star")},
			"other.bar": {Queues: [][]string{items("qstar")}},
		}},
		{op{remove: true, subject: "*.bar", queue: "q", item: "qstar"}, map[string]view{
			"foo.bar": {Plain: items("star")},
			"foo.baz": {Plain: items("star")},
		}},
		{op{remove: true, subject: "foo.*", item: "star"}, map[string]view{}},
	}

	ix := NewIndex[string]()
	warm(ix, published...)
	for i, step := range steps {
		var err error
		if step.op.remove {
			err = ix.Remove(step.op.subject, step.op.queue, step.op.item)
		} else {
			err = ix.Insert(step.op.subject, step.op.queue, step.op.item)
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for _, s := range published {
			checkMatch(t, ix, s, step.want[s])
		}
	}
}

// TestCacheKeepsUnaffected checks that an Insert clears only the entries
// that could reach a node it created (those its subject, or a new prefix of
// it, matches), and that an Insert into a node that exists clears none: the
// entries see the change through the node.
func TestCacheKeepsUnaffected(t *testing.T) {
	tests := []struct {
		subject string
		cleared []string // of the published subjects below
	}{
		{"foo.bar", nil}, // the node exists
		{"foo.bar.baz", []string{"foo.bar.baz"}},
		{"foo.*", []string{"foo.bar", "foo.baz"}},
		{"foo.>", []string{"foo.bar", "foo.baz", "foo.bar.baz"}},
		{"*", []string{"foo", "baz"}},
		{">", []string{"foo", "baz", "foo.bar", "foo.baz", "foo.bar.baz"}},
		{"nothing.here", nil},
		{"baz.x", []string{"baz"}}, // creates the node "baz" on the way
	}
	published := []string{"foo", "baz", "foo.bar", "foo.baz", "foo.bar.baz"}
	for _, tc := range tests {
		t.Run(tc.subject, func(t *testing.T) {
			ix := newFixture(t, []sub{{"foo.bar", "", "x"}})
			warm(ix, published...)
			if err := ix.Insert(tc.subject, "", "new"); err != nil {
				t.Fatal(err)
			}
			for _, s := range published {
				cleared := false
				for _, c := range tc.cleared {
					cleared = cleared || c == s
				}
				if got := ix.cache.get(ix.cache.hash(s), s) == nil; got != cleared {
					t.Errorf("after Insert(%q): entry %q cleared = %v, want %v", tc.subject, s, got, cleared)
				}
			}
			if err := ix.Remove(tc.subject, "", "new"); err != nil {
				t.Fatal(err)
			}
			warm(ix, published...)
			if err := ix.Insert("foo.bar", "q", "member"); err != nil {
				t.Fatal(err)
			}
			if ix.cache.get(ix.cache.hash("foo.bar"), "foo.bar") == nil {
				t.Errorf("a queue member added to an existing node cleared its entry")
			}
			checkMatch(t, ix, "foo.bar", view{Plain: items("x"), Queues: [][]string{items("member")}})
		})
	}
}

func TestCacheBounded(t *testing.T) {
	ix := newFixture(t, []sub{{"s.*", "", "star"}, {"s.7", "", "seven"}})
	for i := range 10 * cacheSize {
		warm(ix, fmt.Sprint("s.", i))
	}
	if n := ix.cache.len(); n > cacheSize || n < cacheSize/2 {
		t.Errorf("cache holds %d entries, want between %d and %d", n, cacheSize/2, cacheSize)
	}
	// Evicted or not, answers stay right.
	for i := range 2 * cacheSize {
		s := fmt.Sprint("s.", i)
		want := view{Plain: items("star")}
		if i == 7 {
			want = view{Plain: items("star", "seven")}
		}
		checkMatch(t, ix, s, want)
	}
}

func TestCacheSecondWay(t *testing.T) {
	// Two subjects in the same set both stay cached.
	ix := NewIndex[string]()
	a := "a"
	set := ix.cache.hash(a) % cacheSets
	var b string
	for i := 0; b == ""; i++ {
		if s := fmt.Sprint("b", i); ix.cache.hash(s)%cacheSets == set {
			b = s
		}
	}
	warm(ix, a, b)
	if ix.cache.get(ix.cache.hash(a), a) == nil || ix.cache.get(ix.cache.hash(b), b) == nil {
		t.Errorf("two subjects of one set: both should stay cached")
	}
}

func TestCachedMatchAllocs(t *testing.T) {
	ix := newFixture(t, []sub{{"foo.bar", "", "a"}, {"foo.*", "q", "b"}, {">", "", "c"}})
	warm(ix, "foo.bar")
	if n := testing.AllocsPerRun(100, func() { ix.Match("foo.bar") }); n != 0 {
		t.Errorf("cached Match allocates %v times, want 0", n)
	}
}

func TestMatchDoesNotRetainSubject(t *testing.T) {
	ix := newFixture(t, []sub{{"foo.bar", "", "a"}})
	buf := []byte("foo.bar")
	aliased := unsafe.String(&buf[0], len(buf)) // as a zero-copy reader would pass it
	ix.Match(aliased)
	copy(buf, "xxx.yyy")
	checkMatch(t, ix, "foo.bar", view{Plain: items("a")})
	checkMatch(t, ix, "xxx.yyy", view{})
}

func TestResultIsClipped(t *testing.T) {
	ix := newFixture(t, []sub{
		{"a", "", "1"}, {"a", "", "2"}, {"*", "", "3"},
		{"a", "q", "4"}, {"*", "q", "5"}, {">", "q", "6"},
	})
	r := ix.Match("a")
	if cap(r.Plain) != len(r.Plain) || cap(r.Queues) != len(r.Queues) {
		t.Errorf("result slices not clipped: plain %d/%d queues %d/%d", len(r.Plain), cap(r.Plain), len(r.Queues), cap(r.Queues))
	}
	for _, g := range r.Queues {
		if cap(g) != len(g) {
			t.Errorf("queue group not clipped: %d/%d", len(g), cap(g))
		}
	}
	if e := NewIndex[string]().Match("nothing"); e == nil || !e.Empty() {
		t.Errorf("Match of an unsubscribed subject = %+v, want empty non-nil", e)
	}
}

// TestCacheScanOverFullCache: with every slot of the cache in use, an
// Insert that creates wildcard nodes and a Remove of a wildcard clear
// every entry they must and keep the others.
func TestCacheScanOverFullCache(t *testing.T) {
	ix := newFixture(t, []sub{{"a.x.b", "", "x"}})
	publish := func() { // each subject twice: a subject is cached on its second miss
		for i := range 4 * cacheSize {
			for range 2 {
				ix.Match(fmt.Sprintf("a.%d.b", i%(cacheSize/2)))
				ix.Match(fmt.Sprintf("c.%d", i))
			}
		}
	}
	publish()
	before := ix.cache.len()
	if before < cacheSize/2 {
		t.Fatalf("the cache holds %d entries", before)
	}
	if err := ix.Insert("a.*.b", "", "star"); err != nil {
		t.Fatal(err)
	}
	kept := 0
	for i := range ix.cache.slots {
		if e := ix.cache.slots[i].Load(); e != nil {
			kept++
			if patternMatches("a.*", e.subject) || patternMatches("a.*.b", e.subject) {
				t.Errorf("entry %q survived the Insert of a.*.b", e.subject)
			}
		}
	}
	if kept == 0 || kept == before {
		t.Errorf("the Insert kept %d of %d entries", kept, before)
	}
	checkMatch(t, ix, "a.7.b", view{Plain: items("star")})
	checkMatch(t, ix, "a.x.b", view{Plain: items("x", "star")})
	publish()
	if err := ix.Remove("a.*.b", "", "star"); err != nil {
		t.Fatal(err)
	}
	for i := range ix.cache.slots {
		if e := ix.cache.slots[i].Load(); e != nil && patternMatches("a.*.b", e.subject) {
			t.Errorf("entry %q survived the Remove of a.*.b", e.subject)
		}
	}
	checkMatch(t, ix, "a.7.b", view{})
	checkMatch(t, ix, "a.x.b", view{Plain: items("x")})
}
