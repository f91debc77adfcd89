package main

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// matches is a plain NATS pattern match of literal subject s, for checking
// the subject-space layout independently of either server.
func matches(pattern, s string) bool {
	p, t := strings.Split(pattern, "."), strings.Split(s, ".")
	for i, tok := range p {
		switch {
		case tok == ">":
			return len(t) > i
		case i >= len(t):
			return false
		case tok != "*" && tok != t[i]:
			return false
		}
	}
	return len(p) == len(t)
}

// TestSpaceLayout checks what the report claims of the subject space:
// every subscription distinct, exactly spaceMatches of them matching the
// publish subject at every size, on as many connections.
func TestSpaceLayout(t *testing.T) {
	for _, n := range []int{1000, 100_000} {
		target := spaceTarget(1000)
		seen := map[string]bool{}
		conns := map[int]bool{}
		for i := range n {
			s := spaceSubject(i)
			if seen[s] {
				t.Fatalf("size %d: subscription %d repeats %q", n, i, s)
			}
			seen[s] = true
			if matches(s, target) {
				conns[i%spaceConns] = true
			}
		}
		if len(conns) != spaceMatches {
			t.Errorf("size %d: %q matched on %d connections, want %d", n, target, len(conns), spaceMatches)
		}
	}
}

// TestSpaceShares checks that the holders' arithmetic in subscribeSpace
// gives every subscription of a step to exactly one connection.
func TestSpaceShares(t *testing.T) {
	const total = 7
	for _, step := range [][2]int{{0, 20}, {20, 1000}, {3, 4}} {
		got := map[int]int{}
		for g := range total {
			for i := step[0] + ((g-step[0]%total)+total)%total; i < step[1]; i += total {
				if i%total != g {
					t.Fatalf("step %v: connection %d got subscription %d", step, g, i)
				}
				got[i]++
			}
		}
		for i := step[0]; i < step[1]; i++ {
			if got[i] != 1 {
				t.Errorf("step %v: subscription %d made %d times", step, i, got[i])
			}
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 500}, {90, 900}, {99, 990}, {99.9, 999}, {100, 1000}, {0, 1}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%g = %d, want %d", c.p, got, c.want)
		}
	}
}
