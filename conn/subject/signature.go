package subject

// A cache slot's signature sums up its entry's subject in 32 bits that a
// scan for the entries a wildcard pattern matches can test without reading
// the entry: the subject's token count and a 12-bit hash of each of its
// first two tokens. A pattern whose first tokens are literal (the usual
// case: "svc.*.req", "sp.42.>") so rules out nearly every entry of a full
// cache from its signature alone.
//
//	bit 31       always 1 (0 means "no signature")
//	bits 24..30  token count, 127 for 127 or more
//	bits 12..23  hash of token 0
//	bits  0..11  hash of token 1 (0 with one token)
const (
	sigValid    = 1 << 31
	sigMaxCount = 127
	sigHashMask = 1<<12 - 1
)

// sigOf returns the signature of the literal subject s (valid, no empty
// token).
func sigOf(s string) uint32 {
	count, h0, h1 := 0, uint32(0), uint32(0)
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != sep {
			continue
		}
		switch count {
		case 0:
			h0 = tokenHash(s[start:i])
		case 1:
			h1 = tokenHash(s[start:i])
		}
		count++
		start = i + 1
	}
	return sigValid | uint32(min(count, sigMaxCount))<<24 | h0<<12 | h1
}

// tokenHash is a 12-bit FNV-1a hash of one token.
func tokenHash(tok string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(tok); i++ {
		h ^= uint32(tok[i])
		h *= 16777619
	}
	return (h ^ h>>12 ^ h>>24) & sigHashMask
}

// sigFilter is what a pattern's matches must have in their signature; see
// [filterOf].
type sigFilter struct {
	minCount, maxCount int // maxCount < 0: no bound
	h0, h1             uint32
	need0, need1       bool // token 0 / token 1 of the pattern is literal
}

// filterOf returns the filter that every subject prefixMatches(pattern,
// subject, from) accepts passes (pattern valid).
func filterOf(pattern string, from int) sigFilter {
	f := sigFilter{minCount: from + 1, maxCount: -1}
	count, start, rest := 0, 0, false
	for i := 0; i <= len(pattern); i++ {
		if i < len(pattern) && pattern[i] != sep {
			continue
		}
		tok := pattern[start:i]
		literal := tok != starTok && tok != restTok
		switch count {
		case 0:
			f.h0, f.need0 = tokenHash(tok), literal
		case 1:
			f.h1, f.need1 = tokenHash(tok), literal
		}
		rest = tok == restTok
		count++
		start = i + 1
	}
	if !rest {
		f.maxCount = count
	}
	return f
}

// admits reports whether a subject with signature sig may pass the
// filter; false means it certainly does not.
func (f sigFilter) admits(sig uint32) bool {
	c := int(sig>>24) & sigMaxCount
	if c < f.minCount && c < sigMaxCount {
		return false
	}
	if f.maxCount >= 0 && c > f.maxCount {
		return false
	}
	if f.need0 && (sig>>12)&sigHashMask != f.h0 {
		return false
	}
	// A subject of two or more tokens is matched only by a prefix that
	// holds the pattern's token 1 (or a ">" at token 1, not literal).
	if f.need1 && c >= 2 && sig&sigHashMask != f.h1 {
		return false
	}
	return true
}

// tokenCount returns the number of tokens of the valid subject s.
func tokenCount(s string) int {
	n := 1
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			n++
		}
	}
	return n
}

// prefixMatches reports whether the subject made of the tokens 0 … d of
// pattern (valid, wildcards allowed) matches the publish subject s (no
// empty tokens; every token taken literally) for some d >= from. With from
// the last token of pattern that is patternMatches. Like it, it walks both
// strings once, byte by byte, and does not allocate.
func prefixMatches(pattern, s string, from int) bool {
	i, j, tok := 0, 0, 0 // at the start of token tok in pattern and in s
	for {
		switch {
		case pattern[i] == '>' && i+1 == len(pattern):
			return tok >= from // s has a token left here
		case pattern[i] == '*' && (i+1 == len(pattern) || pattern[i+1] == sep):
			i++
			for j < len(s) && s[j] != sep {
				j++
			}
		default:
			for ; i < len(pattern) && pattern[i] != sep; i, j = i+1, j+1 {
				if j == len(s) || s[j] != pattern[i] {
					return false
				}
			}
			if j < len(s) && s[j] != sep {
				return false // s's token is longer
			}
		}
		// Both at a separator or at the end.
		if j == len(s) {
			return tok >= from // the prefix of tok+1 tokens matches s
		}
		if i == len(pattern) {
			return false // s is longer
		}
		i, j, tok = i+1, j+1, tok+1
	}
}
