package subject

import (
	"fmt"
	"testing"
)

// A subject is cached when it misses a second time while the first miss
// is remembered; one published once (a reply) leaves no entry.
func TestCachedOnSecondMiss(t *testing.T) {
	ix := newFixture(t, []sub{{"_INBOX.a.*", "", "requester"}, {"req", "", "responder"}})
	for _, s := range []string{"_INBOX.a.1", "req", "nobody"} {
		ix.Match(s)
		if ix.cache.get(ix.cache.hash(s), s) != nil {
			t.Errorf("%q cached after one Match", s)
		}
		ix.Match(s)
		if ix.cache.get(ix.cache.hash(s), s) == nil {
			t.Errorf("%q not cached after two", s)
		}
	}
}

// Subjects matched once get the same answers as cached ones while the
// nodes they reach change: the kept single-node result follows its node.
func TestMatchedOnceFollowsChanges(t *testing.T) {
	type op struct {
		remove               bool
		subject, queue, item string
	}
	steps := []struct {
		op   op
		want view
	}{
		{op{subject: "_INBOX.a.*", item: "r1"}, view{Plain: items("r1")}},
		{op{subject: "_INBOX.a.*", item: "r2"}, view{Plain: items("r1", "r2")}},
		{op{subject: "_INBOX.a.*", queue: "q", item: "g1"}, view{Plain: items("r1", "r2"), Queues: [][]string{items("g1")}}},
		{op{remove: true, subject: "_INBOX.a.*", item: "r1"}, view{Plain: items("r2"), Queues: [][]string{items("g1")}}},
		{op{subject: "_INBOX.>", item: "all"}, view{Plain: items("r2", "all"), Queues: [][]string{items("g1")}}},
		{op{remove: true, subject: "_INBOX.>", item: "all"}, view{Plain: items("r2"), Queues: [][]string{items("g1")}}},
		{op{remove: true, subject: "_INBOX.a.*", queue: "q", item: "g1"}, view{Plain: items("r2")}},
		{op{remove: true, subject: "_INBOX.a.*", item: "r2"}, view{}},
	}
	ix := NewIndex[string]()
	n := 0
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
		for range 3 {
			n++
			checkMatch(t, ix, fmt.Sprint("_INBOX.a.", n), step.want)
		}
	}
}

// Answering a reply (a subject matched once, reaching one wildcard node)
// allocates nothing once the node's result is kept.
func TestMatchedOnceAllocs(t *testing.T) {
	ix := newFixture(t, []sub{{"_INBOX.a.*", "", "requester"}, {"req", "", "responder"}})
	replies := make([]string, 1000)
	for i := range replies {
		replies[i] = fmt.Sprint("_INBOX.a.", i)
	}
	i := 0
	n := testing.AllocsPerRun(len(replies)-1, func() {
		if r := ix.Match(replies[i]); len(r.Plain) != 1 {
			t.Fatalf("%s: %d matches", replies[i], len(r.Plain))
		}
		i++
	})
	if n != 0 {
		t.Errorf("a reply's Match allocates %v times, want 0", n)
	}
}
