package parser

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func TestLimits(t *testing.T) {
	sub := func(argLen int) string { return "SUB " + strings.Repeat("s", argLen-2) + " 1\r\n" }
	pub := func(size int) string {
		return "PUB foo " + itoa(size) + "\r\n" + strings.Repeat("x", size) + "\r\n"
	}
	tests := []struct {
		name     string
		mcl, mpl int
		in       string
		kind     Kind
	}{
		{name: "arguments at max_control_line", mcl: 10, mpl: 10, in: sub(10)},
		{name: "arguments over max_control_line", mcl: 10, mpl: 10, in: sub(11), kind: MaxControlLine},
		{name: "op name and blanks not counted", mcl: 5, mpl: 10, in: "UNSUB      12345\r\n"},
		{name: "line end not counted", mcl: 5, mpl: 10, in: "UNSUB 12345\r\n"},
		{name: "PING never checked", mcl: 0, mpl: 10, in: "PING " + strings.Repeat("x", 100) + "\r\n"},
		{name: "zero max_control_line", mcl: 0, mpl: 10, in: "SUB a 1\r\n", kind: MaxControlLine},
		{name: "no max_control_line", mcl: -1, mpl: 10, in: sub(100 << 10)},
		{name: "payload at max_payload", mcl: 10, mpl: 10, in: pub(10)},
		{name: "payload over max_payload", mcl: 10, mpl: 10, in: pub(11), kind: MaxPayload},
		{name: "zero max_payload allows empty", mcl: 10, mpl: 0, in: pub(0)},
		{name: "zero max_payload", mcl: 10, mpl: 0, in: pub(1), kind: MaxPayload},
		{name: "no max_payload", mcl: 20, mpl: -1, in: pub(1 << 20)},
		{name: "largest size", mcl: 20, mpl: -1, in: "PUB foo 999999999\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, cut := range []int{len(tc.in), len(tc.in) / 2, 3} {
				got := feed(New(tc.mcl, tc.mpl), []byte(tc.in), cut)
				assert.Equal(t, kind(got.err), tc.kind, "cut %d: %v", cut, got.err)
			}
		})
	}
}

func TestSetLimitsBetweenOps(t *testing.T) {
	p := New(testMCL, testMPay)
	r := newRecorder()
	assert.NilError(t, p.Parse([]byte("PUB foo 100\r\n"+strings.Repeat("x", 100)+"\r\n"), r))

	p.SetLimits(testMCL, 50)
	err := p.Parse([]byte("PUB foo 100\r\n"), r)
	assert.Equal(t, kind(err), MaxPayload)
	assert.ErrorContains(t, err, "size 100 exceeds max_payload 50")

	p.Reset()
	p.SetLimits(6, -1)
	assert.NilError(t, p.Parse([]byte("SUB foo 12\r\n"), r))
	assert.Equal(t, kind(p.Parse([]byte("SUB foo 123\r\n"), r)), MaxControlLine)
	assert.Equal(t, len(r.calls), 2)
}

// A lower max_control_line catches a line already held from an earlier
// read at the end of the next Parse call.
func TestSetLimitsWhileLineHeld(t *testing.T) {
	p := New(100, -1)
	r := newRecorder()
	assert.NilError(t, p.Parse([]byte("CONNECT {\"name\":\"abcdefgh"), r))
	p.SetLimits(10, -1)
	err := p.Parse([]byte("ij"), r)
	assert.Equal(t, kind(err), MaxControlLine)
	assert.ErrorContains(t, err, "CONNECT arguments of 19 bytes")
	assert.Equal(t, len(r.calls), 0)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
