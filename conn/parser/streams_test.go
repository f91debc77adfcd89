package parser

import "strings"

// stream is one client byte stream and what parsing it (with limits
// testMCL and testMPay) must produce: the Handler calls, in recorder
// notation, then either no error (kind 0) or a ProtoError of kind.
type stream struct {
	name string
	in   string
	want []string
	kind Kind
}

var (
	long63 = strings.Repeat("a", 63)
	long64 = strings.Repeat("a", 64)
	body   = func(n int) string { return strings.Repeat("x", n) }
)

// validStreams are streams nats-server accepts from a client.
var validStreams = []stream{
	{name: "connect", in: "CONNECT {\"verbose\":false}\r\n", want: []string{`CONNECT "{\"verbose\":false}"`}},
	{name: "connect without blank", in: "CONNECT{}\r\n", want: []string{`CONNECT "{}"`}},
	{name: "connect lower case, blanks, bare LF", in: "connect \t {}\n", want: []string{`CONNECT "{}"`}},
	{name: "connect keeps first byte even LF", in: "CONNECT\n{}\n", want: []string{`CONNECT "\n{}"`}},
	{name: "connect empty gives CR", in: "CONNECT\r\n", want: []string{`CONNECT "\r"`}},
	{name: "ping pong", in: "PING\r\nPONG\r\nping\npong\nPiNg\r\n", want: []string{"PING", "PONG", "PING", "PONG", "PING"}},
	{name: "ping ignores the rest of its line", in: "PING foo bar\r\nPINGPONG\r\nPONG" + long64 + long64 + "\n", want: []string{"PING", "PING", "PONG"}},
	{name: "sub", in: "SUB foo 1\r\n", want: []string{`SUB "foo" "1"`}},
	{name: "sub queue", in: "SUB foo.* bar 22\r\n", want: []string{`SUB "foo.*" "bar" "22"`}},
	{name: "sub blanks", in: "sub \t foo\t\tbar   3 \r\n", want: []string{`SUB "foo" "bar" "3"`}},
	{name: "sub CR inside arguments", in: "SUB foo\r 1\r\n", want: []string{`SUB "foo" "1"`}},
	{name: "sub blanks before arguments not counted", in: "SUB" + strings.Repeat(" ", 100) + "foo 1\r\n", want: []string{`SUB "foo" "1"`}},
	{name: "sub arguments exactly max_control_line", in: "SUB " + long63[:62] + " 1\r\n", want: []string{`SUB "` + long63[:62] + `" "1"`}},
	{
		name: "unsub",
		in:   "UNSUB 1\r\nUNSUB 2 5\r\nunsub 3 0\r\nUNSUB 4 x\r\nUNSUB 5 1234567890\r\nUNSUB\t6\t007\n",
		want: []string{`UNSUB "1" 0`, `UNSUB "2" 5`, `UNSUB "3" 0`, `UNSUB "4" 0`, `UNSUB "5" 0`, `UNSUB "6" 7`},
	},
	{name: "pub", in: "PUB foo 5\r\nhello\r\n", want: []string{`PUB "foo" -1 "hello"`}},
	{name: "pub reply", in: "PUB foo bar 5\r\nhello\r\n", want: []string{`PUB "foo" "bar" -1 "hello"`}},
	{name: "pub empty", in: "PUB foo 0\r\n\r\n", want: []string{`PUB "foo" -1 ""`}},
	{name: "pub body with CRLF", in: "PUB foo 6\r\n\r\nab\r\n\r\n", want: []string{`PUB "foo" -1 "\r\nab\r\n"`}},
	{name: "pub body with ops", in: "PUB foo 12\r\nPING\r\nPONG\r\n\r\nPING\r\n", want: []string{`PUB "foo" -1 "PING\r\nPONG\r\n"`, "PING"}},
	{name: "pub bare LF line", in: "PUB foo 2\nhi\r\n", want: []string{`PUB "foo" -1 "hi"`}},
	{name: "pub lower case, tabs, leading zeros", in: "pub\tfoo\t002\r\nhi\r\n", want: []string{`PUB "foo" -1 "hi"`}},
	{name: "pub exactly max_payload", in: "PUB foo 256\r\n" + body(256) + "\r\n", want: []string{`PUB "foo" -1 "` + body(256) + `"`}},
	{name: "hpub", in: "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", want: []string{`PUB "foo" 12 "NATS/1.0\r\n\r\nhi"`}},
	{name: "hpub reply", in: "hpub foo r 12 12\r\nNATS/1.0\r\n\r\n\r\n", want: []string{`PUB "foo" "r" 12 "NATS/1.0\r\n\r\n"`}},
	{name: "hpub no headers", in: "HPUB foo 0 2\r\nhi\r\n", want: []string{`PUB "foo" 0 "hi"`}},
	{name: "client +OK ignored", in: "+OK\r\n+ok whatever\nPING\r\n", want: []string{"PING"}},
	{name: "client INFO ignored", in: "INFO {\"server_id\":\"x\"}\r\nINFO null\r\nINFO{}\nPING\r\n", want: []string{"PING"}},
	{name: "client HMSG dropped", in: "HMSG foo 1 2 3\r\n\r\nPING\r\n", want: []string{"PING"}},
	{
		name: "session",
		in: "CONNECT {\"verbose\":false,\"headers\":true}\r\nPING\r\nSUB foo 1\r\nSUB bar q 2\r\n" +
			"PUB foo 3\r\nabc\r\nPUB foo reply 0\r\n\r\nHPUB bar 12 15\r\nNATS/1.0\r\n\r\nxyz\r\n" +
			"UNSUB 1\r\nUNSUB 2 10\r\nPONG\r\n",
		want: []string{
			`CONNECT "{\"verbose\":false,\"headers\":true}"`, "PING", `SUB "foo" "1"`, `SUB "bar" "q" "2"`,
			`PUB "foo" -1 "abc"`, `PUB "foo" "reply" -1 ""`, `PUB "bar" 12 "NATS/1.0\r\n\r\nxyz"`,
			`UNSUB "1" 0`, `UNSUB "2" 10`, "PONG",
		},
	},
}

// errorStreams are streams that end in a ProtoError, one or more per
// nats-server error path reachable from a client connection.
var errorStreams = []stream{
	// UnknownOp: nats-server's parse error.
	{name: "unknown op", in: "FOO\r\n", kind: UnknownOp},
	{name: "blank line", in: "\r\n", kind: UnknownOp},
	{name: "ops before the error are delivered", in: "PING\r\nXYZ\r\n", want: []string{"PING"}, kind: UnknownOp},
	{name: "MSG from a client", in: "MSG foo 1 2\r\nhi\r\n", kind: UnknownOp},
	{name: "RS+ from a client", in: "RS+ foo 1\r\n", kind: UnknownOp},
	{name: "A+ from a client", in: "A+ foo\r\n", kind: UnknownOp},
	{name: "LS+ from a client", in: "LS+ foo\r\n", kind: UnknownOp},
	{name: "bad op letter", in: "PUX foo 1\r\n", kind: UnknownOp},
	{name: "PUB without blank", in: "PUB\r\n", kind: UnknownOp},
	{name: "SUB without blank", in: "SUBfoo 1\r\n", kind: UnknownOp},
	{name: "UNSUB without blank", in: "UNSUB\r\n", kind: UnknownOp},
	{name: "HPUB without blank", in: "HPUBfoo 1 1\r\n", kind: UnknownOp},
	{name: "-ERR without blank", in: "-ERR\r\n", kind: UnknownOp},
	{name: "+ not OK", in: "+NO\r\n", kind: UnknownOp},
	{name: "CONNECT misspelt", in: "CONNEXT {}\r\n", kind: UnknownOp},
	{name: "INFO misspelt", in: "INFX {}\r\n", kind: UnknownOp},
	{name: "body longer than size", in: "PUB foo 2\r\nhello\r\n", kind: UnknownOp},
	{name: "body shorter than size", in: "PUB foo 5\r\nhi\r\nPING\r\n", kind: UnknownOp},
	{name: "body ends with bare LF", in: "PUB foo 2\r\nhi\nPING\r\n", kind: UnknownOp},
	{name: "body ends with CR only", in: "PUB foo 2\r\nhi\rPING\r\n", kind: UnknownOp},
	{name: "HMSG with a body", in: "HMSG foo 1 2\r\nhi\r\n", kind: UnknownOp},

	// BadArgs: nats-server returns an error from the op's handling.
	{name: "PUB one argument", in: "PUB foo\r\n", kind: BadArgs},
	{name: "PUB four arguments", in: "PUB a b c 1\r\n", kind: BadArgs},
	{name: "PUB size not a number", in: "PUB foo bar\r\n", kind: BadArgs},
	{name: "PUB negative size", in: "PUB foo -1\r\n", kind: BadArgs},
	{name: "PUB ten-digit size", in: "PUB foo 0000000001\r\n", kind: BadArgs},
	{name: "PUB CR splits nothing", in: "PUB foo\r5\r\n", kind: BadArgs},
	{name: "PUB sticky CR drops the last byte", in: "PUB foo 5\rx\n", kind: BadArgs},
	{name: "HPUB two arguments", in: "HPUB foo 1\r\n", kind: BadArgs},
	{name: "HPUB five arguments", in: "HPUB a b c 1 2\r\n", kind: BadArgs},
	{name: "HPUB bad header size", in: "HPUB foo x 5\r\n", kind: BadArgs},
	{name: "HPUB bad total size", in: "HPUB foo 2 x\r\n", kind: BadArgs},
	{name: "HPUB header larger than total", in: "HPUB foo 6 5\r\n", kind: BadArgs},
	{name: "HPUB header check before max_payload", in: "HPUB foo 300 257\r\n", kind: BadArgs},
	{name: "SUB one argument", in: "SUB foo\r\n", kind: BadArgs},
	{name: "SUB four arguments", in: "SUB a b c d\r\n", kind: BadArgs},
	{name: "SUB no arguments", in: "SUB \r\n", kind: BadArgs},
	{name: "SUB sticky CR drops the sid", in: "SUB foo\r1\n", kind: BadArgs},
	{name: "UNSUB no arguments", in: "UNSUB\t\r\n", kind: BadArgs},
	{name: "UNSUB three arguments", in: "UNSUB 1 2 3\r\n", kind: BadArgs},
	{name: "INFO not JSON", in: "INFO x\r\n", kind: BadArgs},
	{name: "INFO array", in: "INFO []\r\n", kind: BadArgs},
	{name: "INFO truncated", in: "INFO {\r\n", kind: BadArgs},

	// MaxControlLine: arguments longer than testMCL.
	{name: "SUB line too long", in: "SUB " + long63 + " 1\r\n", kind: MaxControlLine},
	{name: "PUB line too long, checked first", in: "PUB " + long64 + "x\r\n", kind: MaxControlLine},
	{name: "HPUB line too long", in: "HPUB foo 1 " + long64 + "\r\n", kind: MaxControlLine},
	{name: "UNSUB line too long", in: "UNSUB " + long64 + "1\r\n", kind: MaxControlLine},
	{name: "CONNECT too long", in: "CONNECT {\"name\":\"" + long64 + "\"}\r\n", kind: MaxControlLine},
	{name: "INFO too long", in: "INFO " + long64 + "1\n", kind: MaxControlLine},
	{name: "-ERR too long", in: "-ERR " + long64 + "1\r\n", kind: MaxControlLine},
	{name: "HMSG too long", in: "HMSG " + long64 + "1\r\n", kind: MaxControlLine},
	{name: "unterminated line", in: "SUB " + long64 + long64, kind: MaxControlLine},

	// MaxPayload: announced size above testMPay.
	{name: "PUB over max_payload", in: "PUB foo 257\r\n", kind: MaxPayload},
	{name: "HPUB over max_payload", in: "HPUB foo r 10 257\r\n", kind: MaxPayload},

	// ClientErr: the client sent -ERR.
	{name: "client -ERR", in: "PING\r\n-ERR 'oops'\r\nPING\r\n", want: []string{"PING"}, kind: ClientErr},
	{name: "client -err with tab", in: "-err\tx\n", kind: ClientErr},
}

// allStreams is validStreams then errorStreams.
func allStreams() []stream {
	return append(append([]stream(nil), validStreams...), errorStreams...)
}
