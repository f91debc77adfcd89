package subject

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

// refMatches is the brute-force reference: does subscription subject sub
// match publish subject pub, token by token?
func refMatches(sub, pub string) bool {
	pt := strings.Split(pub, ".")
	if slices.Contains(pt, "") {
		return false
	}
	st := strings.Split(sub, ".")
	for i, s := range st {
		if s == ">" && i == len(st)-1 {
			return len(pt) > i
		}
		if i >= len(pt) || (s != "*" && s != pt[i]) {
			return false
		}
	}
	return len(st) == len(pt)
}

// fuzzSub is one subscription line of a fuzz input; its item is its index.
type fuzzSub struct {
	subject, queue string
	stored         bool
}

// refView is a match result in canonical form: plain items sorted, and the
// sorted members of each queue group keyed by the group's name.
type refView struct {
	plain  []int
	queues map[string][]int
}

func (a refView) equal(b refView) bool {
	return slices.Equal(a.plain, b.plain) && maps.EqualFunc(a.queues, b.queues, slices.Equal)
}

func refMatch(subs []fuzzSub, pub string) refView {
	v := refView{queues: map[string][]int{}}
	for i, s := range subs {
		if !s.stored || !refMatches(s.subject, pub) {
			continue
		}
		if s.queue == "" {
			v.plain = append(v.plain, i)
		} else {
			v.queues[s.queue] = append(v.queues[s.queue], i)
		}
	}
	return v
}

// view turns a Result into a refView, failing if a group mixes queue names
// or two groups share one.
func viewOf(t *testing.T, subs []fuzzSub, r *Result[int]) refView {
	v := refView{plain: slices.Sorted(slices.Values(r.Plain)), queues: map[string][]int{}}
	for _, g := range r.Queues {
		if len(g) == 0 {
			t.Fatalf("empty queue group in %v", r)
		}
		name := subs[g[0]].queue
		for _, item := range g {
			if subs[item].queue != name {
				t.Fatalf("group %v mixes queues %q and %q", g, name, subs[item].queue)
			}
		}
		if _, dup := v.queues[name]; dup {
			t.Fatalf("queue %q split over two groups in %v", name, r)
		}
		v.queues[name] = slices.Sorted(slices.Values(g))
	}
	return v
}

// FuzzMatch inserts the subscriptions of subsText (one per line: subject,
// then optionally a space and a queue name), checks Match of each line of
// pubsText against the reference, removes the subscriptions picked by mask,
// checks again (now against cached entries), re-inserts and checks once more.
func FuzzMatch(f *testing.F) {
	f.Add("foo\nfoo.*\nfoo.> q\n>\n*.bar q\nfoo.bar", "foo\nfoo.bar\nfoo.bar.baz\nbar\nx.bar", uint64(0b101010))
	f.Add("a.*.c.>\na.b.*\n*.*.* q\n* q\na.b.c.d", "a.b.c.d\na.b.c\na\na.x.c.d.e\n..", uint64(0xff))
	f.Add("*a\na>\nfoo.*bar\n>.x\nfoo..bar\n a", "*a\na>\nfoo.*bar\nfoo.*\nfoo.>\n*", uint64(3))
	f.Add("x q1\nx q2\nx q1\n* q1\n> q2", "x\ny\nx.y", uint64(0b10))
	f.Fuzz(func(t *testing.T, subsText, pubsText string, mask uint64) {
		ix := NewIndex[int]()
		var subs []fuzzSub
		for i, line := range strings.Split(subsText, "\n") {
			subject, queue, _ := strings.Cut(line, " ")
			insert := ix.Insert
			if i%2 == 1 {
				insert = ix.InsertOwned // the lines are immutable strings
			}
			err := insert(subject, queue, i)
			if ValidSubject(subject) != (err == nil) {
				t.Fatalf("Insert(%q) = %v, but ValidSubject = %v", subject, err, ValidSubject(subject))
			}
			if err != nil && !errors.Is(err, ErrInvalidSubject) {
				t.Fatalf("Insert(%q) = %v, want ErrInvalidSubject", subject, err)
			}
			subs = append(subs, fuzzSub{subject: subject, queue: queue, stored: err == nil})
		}
		pubs := strings.Split(pubsText, "\n")
		check := func(stage string) {
			t.Helper()
			stored := 0
			for _, s := range subs {
				if s.stored {
					stored++
				}
			}
			if ix.Count() != stored {
				t.Fatalf("%s: Count() = %d, want %d", stage, ix.Count(), stored)
			}
			for _, pub := range pubs {
				if !slices.Contains(strings.Split(pub, "."), "") {
					for _, s := range subs {
						if s.stored && patternMatches(s.subject, pub) != refMatches(s.subject, pub) {
							t.Fatalf("patternMatches(%q, %q) = %v, want %v", s.subject, pub, !refMatches(s.subject, pub), refMatches(s.subject, pub))
						}
					}
				}
				want := refMatch(subs, pub)
				for range 2 { // a miss, then a hit
					if got := viewOf(t, subs, ix.Match(pub)); !got.equal(want) {
						t.Fatalf("%s: Match(%q) = %+v, want %+v", stage, pub, got, want)
					}
				}
			}
		}
		check("inserted")
		for i := range subs {
			if mask&(1<<(i%64)) == 0 || !subs[i].stored {
				continue
			}
			if err := ix.Remove(subs[i].subject, subs[i].queue, i); err != nil {
				t.Fatalf("Remove(%q, %q, %d): %v", subs[i].subject, subs[i].queue, i, err)
			}
			subs[i].stored = false
			if err := ix.Remove(subs[i].subject, subs[i].queue, i); !errors.Is(err, ErrNotFound) {
				t.Fatalf("second Remove(%q, %q, %d) = %v, want ErrNotFound", subs[i].subject, subs[i].queue, i, err)
			}
		}
		check("removed")
		for i := range subs {
			if !subs[i].stored && ValidSubject(subs[i].subject) {
				if err := ix.Insert(subs[i].subject, subs[i].queue, i); err != nil {
					t.Fatal(err)
				}
				subs[i].stored = true
			}
		}
		check("reinserted")
	})
}
