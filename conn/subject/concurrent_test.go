package subject

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func contains(r *Result[string], item string) bool {
	if slices.Contains(r.Plain, item) {
		return true
	}
	for _, g := range r.Queues {
		if slices.Contains(g, item) {
			return true
		}
	}
	return false
}

// TestConcurrent runs writers and readers together; run it under -race. Each
// writer owns one item, so it can check exactly that its own Match sees its
// Insert and then its Remove, whatever the others do meanwhile.
func TestConcurrent(t *testing.T) {
	pairs := []struct{ pattern, publish string }{
		{"svc.a.req", "svc.a.req"},
		{"svc.*.req", "svc.b.req"},
		{"svc.>", "svc.c.d"},
		{">", "svc.a.req"},
		{"*.a.req", "svc.a.req"},
		{"stable.x", "stable.x"},
		{"*", "top"},
	}
	const (
		writers = 4
		readers = 4
		rounds  = 100
	)
	ix := newFixture(t, []sub{{"stable.>", "", "stable"}})

	stop := make(chan struct{})
	var rwg sync.WaitGroup
	for r := range readers {
		rwg.Go(func() {
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := pairs[i%len(pairs)]
				res := ix.Match(p.publish)
				if p.publish == "stable.x" && !contains(res, "stable") {
					t.Errorf("reader: Match(%q) lost the stable subscription", p.publish)
					return
				}
				ix.Match(fmt.Sprint("svc.", i%50, ".req")) // churn the cache
			}
		})
	}

	var wwg sync.WaitGroup
	for w := range writers {
		wwg.Go(func() {
			item := fmt.Sprint("w", w)
			for i := range rounds {
				p := pairs[(w+i)%len(pairs)]
				queue := ""
				if i%2 == 1 {
					queue = "q"
				}
				if err := ix.Insert(p.pattern, queue, item); err != nil {
					t.Errorf("writer %d: Insert(%q): %v", w, p.pattern, err)
					return
				}
				if !contains(ix.Match(p.publish), item) {
					t.Errorf("writer %d: Match(%q) after Insert(%q) misses %s", w, p.publish, p.pattern, item)
					return
				}
				if err := ix.Remove(p.pattern, queue, item); err != nil {
					t.Errorf("writer %d: Remove(%q): %v", w, p.pattern, err)
					return
				}
				if contains(ix.Match(p.publish), item) {
					t.Errorf("writer %d: Match(%q) after Remove(%q) still has %s", w, p.publish, p.pattern, item)
					return
				}
				_ = ix.Count()
			}
		})
	}
	wwg.Wait()
	close(stop)
	rwg.Wait()

	if ix.Count() != 1 {
		t.Errorf("Count() = %d, want 1", ix.Count())
	}
	for _, p := range pairs {
		want := view{}
		if p.publish == "stable.x" {
			want = view{Plain: items("stable")}
		}
		checkMatch(t, ix, p.publish, want)
	}
}
