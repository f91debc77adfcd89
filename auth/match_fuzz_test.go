package auth

import (
	"strings"
	"testing"

	"github.com/natsd/natsd/conn/subject"
)

// FuzzPermissionMatch checks the permission matchers against the subject
// index, which matches the same way (a published token "*" or ">" is taken
// literally), and against each other: Matches(p, s) for a literal s is
// exactly "the index holding p matches s"; Collide is symmetric and holds
// whenever some subject matches both.
func FuzzPermissionMatch(f *testing.F) {
	for _, seed := range [][2]string{
		{"foo.*", "foo.bar"}, {"foo.>", "foo.bar.baz"}, {">", "a"}, {"*.b", "a.b"},
		{"foo.*", "foo.*"}, {"foo.bar", "foo.>"}, {"a.*.c", "a.b.*"}, {"*a", "*a"},
		{"a", "a.b"}, {"a.>", "a"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !subject.ValidSubject(pattern) || !subject.ValidSubject(s) {
			return
		}
		ix := subject.NewIndex[int]()
		if err := ix.Insert(pattern, "", 1); err != nil {
			t.Fatal(err)
		}
		want := !ix.Match(s).Empty()
		if got := Matches(pattern, s); got != want {
			t.Fatalf("Matches(%q, %q) = %v, index says %v", pattern, s, got, want)
		}
		if Collide(pattern, s) != Collide(s, pattern) {
			t.Fatalf("Collide(%q, %q) is not symmetric", pattern, s)
		}
		if want && !Collide(pattern, s) {
			t.Fatalf("%q matches %q but Collide says they cannot meet", pattern, s)
		}
		// A subject made concrete from s's wildcards ('*' -> "x", '>' -> "x")
		// matched by both patterns proves they collide.
		concrete := strings.NewReplacer("*", "x", ">", "x").Replace(s)
		if subject.ValidLiteralSubject(concrete) && Matches(pattern, concrete) && Matches(s, concrete) && !Collide(pattern, s) {
			t.Fatalf("%q and %q both match %q but Collide says no", pattern, s, concrete)
		}
		if subsetMatch(s, pattern) && !Matches(pattern, s) {
			t.Fatalf("subsetMatch(%q, %q) without Matches", s, pattern)
		}
	})
}
