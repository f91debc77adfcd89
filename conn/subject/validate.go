package subject

import "strings"

// The token separator and the two wildcard tokens.
const (
	sep      = '.'
	starTok  = "*" // matches exactly one token
	restTok  = ">" // matches one or more trailing tokens; last token only
	sysQueue = "_sys_"
)

// SystemQueue is the queue group name nats-server reserves for itself and
// refuses from clients (with a permissions violation). [ValidQueue] rejects
// it; it is exported so that callers can tell this case apart and answer as
// nats-server does.
const SystemQueue = sysQueue

// subjectSpace reports whether c separates protocol arguments (space, tab, CR,
// LF), so that it can never be part of a subject a client sends. Every other
// byte is, in nats-server's SUB and PUB: form feed, vertical tab, NUL, DEL
// and bytes that are not UTF-8 included.
func subjectSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// ValidSubject reports whether s may be used as a subscription subject: it is
// non-empty, every '.'-separated token is non-empty, no token holds a space,
// tab, CR or LF, and a token that is exactly ">" comes last. A '*' or '>'
// inside a longer token ("*a", "a>") is an ordinary character, as in
// nats-server. Any other byte is accepted, as nats-server accepts it in a
// client's SUB (its sublist checks only the tokens): ValidSubject does not
// check UTF-8, NUL or form feed. (nats-server's IsValidSubject, which it
// uses for configuration such as permissions, also refuses a form feed; a
// caller checking configuration must do that itself.)
func ValidSubject(s string) bool {
	if s == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != sep {
			if subjectSpace(s[i]) {
				return false
			}
			continue
		}
		if i == start {
			return false // empty token
		}
		if i < len(s) && s[start:i] == restTok {
			return false // '>' followed by more tokens
		}
		start = i + 1
	}
	return true
}

// ValidLiteralSubject reports whether s may be used as a publish subject: it
// satisfies [ValidSubject] and no token is exactly "*" or ">".
func ValidLiteralSubject(s string) bool {
	return ValidSubject(s) && !hasWildcard(s)
}

// ValidQueue reports whether q is a queue group name nats-server accepts from
// a client: it is non-empty, holds no space, tab, CR or LF (the characters
// that separate protocol arguments) and is not [SystemQueue]. Any other byte,
// including '.', '*' and '>', is part of an opaque name.
func ValidQueue(q string) bool {
	return q != "" && q != sysQueue && !strings.ContainsAny(q, " \t\r\n")
}

// hasWildcard reports whether some token of s is exactly "*" or ">". It does
// not check that s is otherwise valid.
func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c == '*' || c == '>') &&
			(i == 0 || s[i-1] == sep) && (i+1 == len(s) || s[i+1] == sep) {
			return true
		}
	}
	return false
}
