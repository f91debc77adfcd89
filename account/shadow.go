package account

import "strings"

// Identity reports whether the transform maps every subject onto itself.
func (t Transform) Identity() bool { return t.identity }

// Reverse returns the transform that undoes t on the subjects t produces:
// from t's destination pattern back to its source ("events.>" ->
// "app.events.>" reversed is "app.events.>" -> "events.>"; "a.*.*" ->
// "b.$2.$1" reversed is "b.*.*" -> "a.$2.$1"). A literal destination
// reverses to the source when that is literal too, to nothing useful
// otherwise (an import never has one: [Import.Transform] refuses it).
func (t Transform) Reverse() Transform {
	switch {
	case t.identity:
		return t
	case t.dst == nil:
		return Transform{literal: strings.Join(t.src, ".")}
	}
	// The reverse's source is t's destination with every reference turned
	// back into a wildcard; its j-th wildcard stands for t.dst's j-th
	// reference.
	r := Transform{src: make([]string, len(t.dst))}
	byRef := map[int]int{} // t's source wildcard -> the reverse's wildcard
	j := 0
	for i, d := range t.dst {
		switch {
		case d.rest:
			r.src[i] = ">"
		case d.ref >= 0:
			r.src[i] = "*"
		default:
			r.src[i] = d.lit
			continue
		}
		if _, ok := byRef[d.ref]; !ok && !d.rest {
			byRef[d.ref] = j
		}
		j++
	}
	k := 0 // t's source wildcards, in order
	for _, s := range t.src {
		switch s {
		case "*":
			r.dst = append(r.dst, dstToken{ref: byRef[k]})
			k++
		case ">":
			r.dst = append(r.dst, dstToken{ref: -1, rest: true})
			k++
		default:
			r.dst = append(r.dst, dstToken{lit: s, ref: -1})
		}
	}
	return r
}

// ShadowSubject returns the subject on which a subscription to sub in an
// importing account listens in the exporting account for the stream
// import from -> to ("$N" tokens allowed in to; rev: the import's
// transform reversed, see [Transform.Reverse]), and false when sub can receive none of the
// import's messages. As nats-server's shadow subscriptions:
//
//   - sub is the import's subject, or a wildcard subscription wider than
//     it: the whole export, from;
//   - sub is narrower than to: sub mapped back into the exporter;
//   - sub and to overlap (a wildcard of sub filled by to's tokens gives a
//     subject within to): that overlap, mapped back.
func ShadowSubject(sub, from, to string, rev Transform) (string, bool) {
	to = untokenize(to)
	if sub == to {
		return from, true
	}
	if subsetMatch(sub, to) {
		return rev.Apply(sub), true
	}
	if !hasWildcard(sub) {
		return "", false
	}
	if subsetMatch(to, sub) {
		return from, true
	}
	toks, tt := strings.Split(sub, "."), strings.Split(to, ".")
	changed := false
	for i, t := range toks {
		if i >= len(tt) {
			break
		}
		if t == "*" && tt[i] != ">" {
			toks[i] = tt[i]
			changed = true
		}
	}
	if last := len(toks) - 1; toks[last] == ">" && len(tt) >= len(toks) {
		toks[last] = tt[last]
		toks = append(toks, tt[len(toks):]...)
		changed = true
	}
	if !changed {
		return "", false
	}
	overlap := strings.Join(toks, ".")
	if !subsetMatch(overlap, to) {
		return "", false
	}
	return rev.Apply(overlap), true
}

// untokenize turns the "$N" tokens of a destination pattern into the "*"
// they stand for, giving the subjects the pattern produces.
func untokenize(pattern string) string {
	if !strings.Contains(pattern, "$") {
		return pattern
	}
	toks := strings.Split(pattern, ".")
	for i, t := range toks {
		if len(t) > 1 && t[0] == '$' && strings.Trim(t[1:], "0123456789") == "" {
			toks[i] = "*"
		}
	}
	return strings.Join(toks, ".")
}
