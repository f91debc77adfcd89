package subject

import (
	"strings"
	"testing"
)

// subjectsOf returns every subject of 1 to maxTokens tokens drawn from toks.
func subjectsOf(toks []string, maxTokens int) []string {
	var out, level []string
	level = []string{""}
	for range maxTokens {
		var next []string
		for _, p := range level {
			for _, t := range toks {
				s := t
				if p != "" {
					s = p + "." + t
				}
				next = append(next, s)
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}

// TestPrefixMatchesAndFilter checks prefixMatches against the reference
// over every small pattern and subject, for every from, and that a
// pattern's filter admits every subject it matches: a scan that trusts the
// filter never keeps an entry it must clear.
func TestPrefixMatchesAndFilter(t *testing.T) {
	var patterns []string
	for _, p := range subjectsOf([]string{"a", "bb", "*", ">"}, 4) {
		if ValidSubject(p) {
			patterns = append(patterns, p)
		}
	}
	subjects := subjectsOf([]string{"a", "bb", "c", "*"}, 5)
	for _, p := range patterns {
		toks := strings.Split(p, ".")
		for from := range toks {
			f := filterOf(p, from)
			for _, s := range subjects {
				want := false
				for d := from; d < len(toks); d++ {
					want = want || refMatches(strings.Join(toks[:d+1], "."), s)
				}
				if got := prefixMatches(p, s, from); got != want {
					t.Fatalf("prefixMatches(%q, %q, %d) = %v, want %v", p, s, from, got, want)
				}
				if want && !f.admits(sigOf(s)) {
					t.Fatalf("filterOf(%q, %d) refuses %q, which it matches", p, from, s)
				}
			}
		}
	}
}

// TestFilterRulesOut: the signature alone rules out subjects that differ
// in a literal first or second token or in their token count.
func TestFilterRulesOut(t *testing.T) {
	tests := []struct {
		pattern string
		from    int
		subject string
	}{
		{"svc.*.req", 2, "other.1.req"},
		{"sp.42.*.b.c", 2, "sp.7.a.b.c"},
		{"a.*", 1, "a.b.c"},
		{"a.*.c", 2, "a.b"},
		{"a.b.>", 1, "a"},
	}
	for _, tc := range tests {
		if filterOf(tc.pattern, tc.from).admits(sigOf(tc.subject)) {
			t.Errorf("filterOf(%q, %d) admits %q", tc.pattern, tc.from, tc.subject)
		}
	}
	long := strings.Repeat("x.", 200) + "x"
	if !filterOf(">", 0).admits(sigOf(long)) || !filterOf(strings.Repeat("*.", 150)+"*", 149).admits(sigOf(long[:301])) {
		t.Errorf("a subject of more than %d tokens is refused", sigMaxCount)
	}
}
