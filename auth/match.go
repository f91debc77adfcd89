package auth

import "github.com/natsd/natsd/conn/subject"

func validSubject(s string) bool { return subject.ValidSubject(s) }

// Matches reports whether the permission pattern (a valid subject, wildcards
// allowed) matches s, taking every token of s literally: a "*" in the
// pattern matches any one token of s, a final ">" one or more, and a "*" or
// ">" token of s is matched only by a pattern wildcard. This is how
// nats-server matches a subject against a permission list, for publish
// subjects and subscription subjects alike. It walks both strings once and
// does not allocate. s must have no empty token.
func Matches(pattern, s string) bool {
	i, j := 0, 0 // starts of the current tokens of pattern and s
	for {
		pe := tokenEnd(pattern, i)
		se := tokenEnd(s, j)
		pt := pattern[i:pe]
		if pt == ">" {
			return j < len(s) // one or more tokens left in s
		}
		if j > len(s) || se == j {
			return false // s ran out (or has an empty token)
		}
		if pt != "*" && pt != s[j:se] {
			return false
		}
		pDone, sDone := pe == len(pattern), se == len(s)
		if pDone || sDone {
			return pDone && sDone
		}
		i, j = pe+1, se+1
	}
}

// tokenEnd returns the index of the '.' ending the token that starts at i,
// or len(s).
func tokenEnd(s string, i int) int {
	for k := i; k < len(s); k++ {
		if s[k] == '.' {
			return k
		}
	}
	return len(s)
}

// Collide reports whether two subscription subjects (valid, wildcards
// allowed) can match a common publish subject, as nats-server's
// SubjectsCollide decides.
func Collide(a, b string) bool {
	i, j := 0, 0
	for {
		ae, be := tokenEnd(a, i), tokenEnd(b, j)
		at, bt := a[i:ae], b[j:be]
		if at == ">" || bt == ">" {
			return true
		}
		if at != "*" && bt != "*" && at != bt {
			return false
		}
		aDone, bDone := ae == len(a), be == len(b)
		if aDone || bDone {
			return aDone && bDone
		}
		i, j = ae+1, be+1
	}
}

// subsetMatch reports whether every subject s matches is also matched by
// pattern: s's wildcards must be covered by pattern's. It decides whether
// a queue name is covered by a wildcard queue of a permission.
func subsetMatch(s, pattern string) bool {
	i, j := 0, 0
	for {
		pe, se := tokenEnd(pattern, i), tokenEnd(s, j)
		pt, st := pattern[i:pe], s[j:se]
		if pt == ">" {
			return j < len(s)
		}
		switch {
		case pt == "*":
			if st == ">" {
				return false
			}
		case pt != st:
			return false
		}
		pDone, sDone := pe == len(pattern), se == len(s)
		if pDone || sDone {
			return pDone && sDone
		}
		i, j = pe+1, se+1
	}
}

// hasWildcard reports whether some token of s is exactly "*" or ">".
func hasWildcard(s string) bool {
	for i := 0; i < len(s); {
		e := tokenEnd(s, i)
		if t := s[i:e]; t == "*" || t == ">" {
			return true
		}
		i = e + 1
	}
	return false
}
