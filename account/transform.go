package account

import (
	"fmt"
	"strconv"
	"strings"
)

// Transform maps the subjects one pattern matches onto another pattern, as
// an import does: each wildcard of the destination takes a token of the
// published subject. A '*' of the destination is filled by the source's
// wildcards in order ("events.*.*" -> "app.*.*" keeps both tokens), "$N"
// names the N-th wildcard of the source explicitly, and a final '>' takes
// the tokens the source's final '>' matched. A literal destination maps
// every subject onto itself.
type Transform struct {
	identity bool
	literal  string     // the destination, when it has no wildcard
	src      []string   // source tokens (kept for Reverse)
	dst      []dstToken // destination tokens
}

// dstToken is a destination token: a literal, or a reference to the k-th
// wildcard of the source (0-based); rest is the final '>'.
type dstToken struct {
	lit  string
	ref  int // -1: literal
	rest bool
}

// NewTransform returns the transform from src to dst, both valid subjects.
// Every wildcard of the source must be used by the destination unless the
// destination is a literal subject.
func NewTransform(src, dst string) (Transform, error) {
	if src == dst {
		return Transform{identity: true}, nil
	}
	st := strings.Split(src, ".")
	dt := strings.Split(dst, ".")
	var wild []int // indexes in st of the '*' and '>' tokens
	hasRest := false
	for i, t := range st {
		switch t {
		case "*":
			wild = append(wild, i)
		case ">":
			wild = append(wild, i)
			hasRest = true
		}
	}
	tr := Transform{src: st}
	used := make([]bool, len(wild))
	next := 0
	literal := true
	for _, t := range dt {
		switch {
		case t == ">":
			if !hasRest {
				return Transform{}, fmt.Errorf("mapping from %q to %q: '>' without a '>' to take", src, dst)
			}
			tr.dst = append(tr.dst, dstToken{ref: -1, rest: true})
			used[len(wild)-1] = true
			literal = false
		case t == "*":
			for next < len(wild) && st[wild[next]] == ">" {
				next++
			}
			if next >= len(wild) {
				return Transform{}, fmt.Errorf("mapping from %q to %q: more wildcards than the source has", src, dst)
			}
			tr.dst = append(tr.dst, dstToken{ref: next})
			used[next] = true
			next++
			literal = false
		case strings.HasPrefix(t, "$"):
			n, err := strconv.Atoi(t[1:])
			if err != nil || n < 1 || n > len(wild) || st[wild[n-1]] == ">" {
				return Transform{}, fmt.Errorf("mapping from %q to %q: %s names no wildcard of the source", src, dst, t)
			}
			tr.dst = append(tr.dst, dstToken{ref: n - 1})
			used[n-1] = true
			literal = false
		default:
			tr.dst = append(tr.dst, dstToken{lit: t, ref: -1})
		}
	}
	if literal {
		return Transform{literal: dst, src: st}, nil
	}
	for i, u := range used {
		if !u {
			return Transform{}, fmt.Errorf("mapping from %q to %q: wildcard %d of the source is not used", src, dst, i+1)
		}
	}
	return tr, nil
}

// Apply maps s, a literal subject the source pattern matches.
func (t Transform) Apply(s string) string {
	if t.identity {
		return s
	}
	if t.dst == nil {
		return t.literal
	}
	toks := strings.Split(s, ".")
	var refs []string // the tokens the source's wildcards matched
	rest := ""
	for i, st := range t.src {
		if i >= len(toks) {
			break
		}
		switch st {
		case "*":
			refs = append(refs, toks[i])
		case ">":
			rest = strings.Join(toks[i:], ".")
			refs = append(refs, rest)
		}
	}
	var b strings.Builder
	for i, d := range t.dst {
		if i > 0 {
			b.WriteByte('.')
		}
		switch {
		case d.rest:
			b.WriteString(rest)
		case d.ref >= 0 && d.ref < len(refs):
			b.WriteString(refs[d.ref])
		default:
			b.WriteString(d.lit)
		}
	}
	return b.String()
}

// subsetMatch reports whether every subject s matches is matched by
// pattern too.
func subsetMatch(s, pattern string) bool {
	st, pt := strings.Split(s, "."), strings.Split(pattern, ".")
	for i, p := range pt {
		if p == ">" {
			return len(st) > i
		}
		if i >= len(st) {
			return false
		}
		switch {
		case p == "*":
			if st[i] == ">" {
				return false
			}
		case p != st[i]:
			return false
		}
	}
	return len(st) == len(pt)
}

// collide reports whether two patterns can match a common subject.
func collide(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; ; i++ {
		if i == len(at) || i == len(bt) {
			return len(at) == len(bt)
		}
		x, y := at[i], bt[i]
		if x == ">" || y == ">" {
			return true
		}
		if x != "*" && y != "*" && x != y {
			return false
		}
	}
}

// hasWildcard reports whether some token of s is "*" or ">".
func hasWildcard(s string) bool {
	for _, t := range strings.Split(s, ".") {
		if t == "*" || t == ">" {
			return true
		}
	}
	return false
}
