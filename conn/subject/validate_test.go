package subject

import "testing"

func TestValidSubject(t *testing.T) {
	tests := []struct {
		subject     string
		valid       bool // ValidSubject
		validPublic bool // ValidLiteralSubject
	}{
		{"foo", true, true},
		{"foo.bar.baz", true, true},
		{"a", true, true},
		{"*", true, false},
		{">", true, false},
		{"foo.*", true, false},
		{"foo.>", true, false},
		{"*.bar", true, false},
		{"foo.*.baz.>", true, false},
		{"*.*.*", true, false},
		{"_INBOX.abc123.*", true, false},
		{"$SYS.REQ.SERVER.PING", true, true},
		{"foo-bar_baz:1/2", true, true},
		{"ünïcode.日本", true, true},

		// Wildcard characters inside a longer token are ordinary characters.
		{"*a", true, true},
		{"a*", true, true},
		{"a>", true, true},
		{">a", true, true},
		{"foo.*bar", true, true},
		{"foo.>>", true, true},
		{"foo.**", true, true},
		{"foo.>bar.baz", true, true},

		// Empty subjects and empty tokens.
		{"", false, false},
		{".", false, false},
		{"..", false, false},
		{".foo", false, false},
		{"foo.", false, false},
		{"a..b", false, false},
		{"foo...bar", false, false},
		{"foo.*.", false, false},
		{".>", false, false},

		// '>' must be the last token.
		{">.a", false, false},
		{"foo.>.bar", false, false},
		{">.>", false, false},
		{">.*", false, false},

		// Any byte but the four that separate protocol arguments, as in
		// nats-server's SUB and PUB (its sublist checks only the tokens).
		{"foo\fbar", true, true},
		{"\f", true, true},
		{"a.\f.b", true, true},
		{"a\vb", true, true},
		{"a\x00b", true, true},
		{"a\x7fb", true, true},
		{"a\xffb", true, true},

		// Whitespace anywhere.
		{" ", false, false},
		{"foo bar", false, false},
		{" foo", false, false},
		{"foo ", false, false},
		{"foo\tbar", false, false},
		{"\t", false, false},
		{"foo.\t", false, false},
		{"foo.\t.bar", false, false},
		{"foo\r\n", false, false},
		{"foo\nbar", false, false},
		{"foo. .bar", false, false},
		{"* ", false, false},
		{"> ", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.subject, func(t *testing.T) {
			if got := ValidSubject(tc.subject); got != tc.valid {
				t.Errorf("ValidSubject(%q) = %v, want %v", tc.subject, got, tc.valid)
			}
			if got := ValidLiteralSubject(tc.subject); got != tc.validPublic {
				t.Errorf("ValidLiteralSubject(%q) = %v, want %v", tc.subject, got, tc.validPublic)
			}
		})
	}
}

func TestValidQueue(t *testing.T) {
	tests := []struct {
		queue string
		valid bool
	}{
		{"q", true},
		{"workers", true},
		{"workers.v1", true},
		{"*", true},
		{">", true},
		{"a..b", true},
		{".", true},
		{"q\fx", true}, // nats-server splits arguments on space, tab, CR, LF only
		{"_sys", true},
		{"_SYS_", true},

		{"", false},
		{"_sys_", false},
		{" ", false},
		{"a b", false},
		{"a\tb", false},
		{"\t", false},
		{"q\r", false},
		{"q\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.queue, func(t *testing.T) {
			if got := ValidQueue(tc.queue); got != tc.valid {
				t.Errorf("ValidQueue(%q) = %v, want %v", tc.queue, got, tc.valid)
			}
		})
	}
}

func TestPatternMatches(t *testing.T) {
	tests := []struct {
		pattern, subject string
		want             bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo", "foo.bar", false},
		{"foo.bar", "foo", false},
		{"*", "foo", true},
		{"*", "foo.bar", false},
		{">", "foo", true},
		{">", "foo.bar.baz", true},
		{"foo.>", "foo", false},
		{"foo.>", "foo.bar", true},
		{"foo.>", "bar.baz", false},
		{"foo.*", "foo.*", true},
		{"foo.*", "foo.>", true},
		{"*.*", "a.b", true},
		{"*.*", "a.b.c", false},
		{"*.b.>", "a.b.c.d", true},
		{"*.b.>", "a.c.c.d", false},
		{"*a", "*a", true},
		{"*a", "xa", false},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+" "+tc.subject, func(t *testing.T) {
			if got := patternMatches(tc.pattern, tc.subject); got != tc.want {
				t.Errorf("patternMatches(%q, %q) = %v, want %v", tc.pattern, tc.subject, got, tc.want)
			}
		})
	}
}
