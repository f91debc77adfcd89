package parser

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestStreams(t *testing.T) {
	for _, tc := range allStreams() {
		t.Run(tc.name, func(t *testing.T) {
			got := feed(New(testMCL, testMPay), []byte(tc.in))
			assert.DeepEqual(t, got.calls, tc.want)
			assert.Check(t, is.Len(got.bad, 0), "%v", got.bad)
			if tc.kind == 0 {
				assert.NilError(t, got.err)
				return
			}
			var pe *ProtoError
			assert.Assert(t, errors.As(got.err, &pe), "got %v", got.err)
			assert.Equal(t, pe.Kind, tc.kind, "%v", pe)
			assert.Equal(t, pe.SendErr, tc.kind.SendErr())
			assert.Assert(t, pe.Detail != "")
		})
	}
}

func TestSendErrTexts(t *testing.T) {
	tests := []struct {
		kind    Kind
		name    string
		sendErr string
	}{
		{UnknownOp, "UnknownOp", "Unknown Protocol Operation"},
		{BadArgs, "BadArgs", ""},
		{MaxControlLine, "MaxControlLine", "maximum control line exceeded"},
		{MaxPayload, "MaxPayload", "Maximum Payload Violation"},
		{ClientErr, "ClientErr", ""},
		{Kind(0), "Kind(0)", ""},
		{Kind(99), "Kind(99)", ""},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.kind.String(), tc.name)
		assert.Equal(t, tc.kind.SendErr(), tc.sendErr)
	}
}

// Every stream, cut once at every byte, gives the same calls and the same
// error kind as when parsed whole; so does feeding it a byte at a time.
func TestSplitAtEveryByte(t *testing.T) {
	for _, tc := range allStreams() {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			whole := feed(New(testMCL, testMPay), in)
			check := func(how string, got result) {
				t.Helper()
				assert.DeepEqual(t, got.calls, whole.calls)
				assert.Equal(t, kind(got.err), kind(whole.err), how)
				assert.Check(t, is.Len(got.bad, 0), "%s: %v", how, got.bad)
			}
			for k := 0; k <= len(in); k++ {
				check(fmt.Sprintf("cut at %d", k), feed(New(testMCL, testMPay), in, k))
			}
			check("byte at a time", feedBytes(New(testMCL, testMPay), in))
		})
	}
}

// Short streams cut twice, at every pair of bytes.
func TestSplitTwice(t *testing.T) {
	for _, tc := range allStreams() {
		in := []byte(tc.in)
		if len(in) > 80 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			whole := feed(New(testMCL, testMPay), in)
			for a := 0; a <= len(in); a++ {
				for b := a; b <= len(in); b++ {
					got := feed(New(testMCL, testMPay), in, a, b)
					assert.DeepEqual(t, got.calls, whole.calls)
					assert.Equal(t, kind(got.err), kind(whole.err), "cuts %d %d", a, b)
					assert.Check(t, is.Len(got.bad, 0), "cuts %d %d: %v", a, b, got.bad)
				}
			}
		})
	}
}

// strictRecorder fails when a slice does not point into the read buffer.
type strictRecorder struct {
	*recorder
}

func (r strictRecorder) in(what string, s []byte) {
	if len(s) > 0 && !inside(s, r.buf) {
		r.bad = append(r.bad, what+" copied")
	}
}

func (r strictRecorder) OnConnect(arg []byte) error {
	r.in("connect", arg)
	return r.recorder.OnConnect(arg)
}

func (r strictRecorder) OnSub(s, q, sid []byte) error {
	r.in("subject", s)
	r.in("queue", q)
	r.in("sid", sid)
	return r.recorder.OnSub(s, q, sid)
}

func (r strictRecorder) OnUnsub(sid []byte, max int) error {
	r.in("sid", sid)
	return r.recorder.OnUnsub(sid, max)
}

func (r strictRecorder) OnPub(s, rep []byte, hdr int, msg []byte) error {
	r.in("subject", s)
	r.in("reply", rep)
	r.in("msg", msg)
	return r.recorder.OnPub(s, rep, hdr, msg)
}

func TestWholeOpsAreNotCopied(t *testing.T) {
	for _, tc := range validStreams {
		t.Run(tc.name, func(t *testing.T) {
			r := strictRecorder{newRecorder()}
			r.buf = []byte(tc.in)
			assert.NilError(t, New(testMCL, testMPay).Parse(r.buf, r))
			assert.DeepEqual(t, r.calls, tc.want)
			assert.Check(t, is.Len(r.bad, 0), "%v", r.bad)
		})
	}
}

func TestHandlerErrorStopsAndSticks(t *testing.T) {
	in := []byte("PING\r\nSUB foo 1\r\nPUB foo 2\r\nhi\r\nPONG\r\n")
	for failAt, want := range [][]string{
		{"PING"},
		{"PING", `SUB "foo" "1"`},
		{"PING", `SUB "foo" "1"`, `PUB "foo" -1 "hi"`},
		{"PING", `SUB "foo" "1"`, `PUB "foo" -1 "hi"`, "PONG"},
	} {
		for _, split := range []bool{false, true} {
			t.Run(fmt.Sprintf("fail at %d split %v", failAt, split), func(t *testing.T) {
				p := New(testMCL, testMPay)
				r := newRecorder()
				r.failAt = failAt
				var err error
				if split {
					for i := range in {
						if err = p.Parse(in[i:i+1], r); err != nil {
							break
						}
					}
				} else {
					err = p.Parse(in, r)
				}
				assert.Assert(t, errors.Is(err, errStop), "got %v", err)
				assert.DeepEqual(t, r.calls, want)

				// The Parser stays failed, without calling the Handler.
				assert.Assert(t, errors.Is(p.Parse([]byte("PING\r\n"), r), errStop))
				assert.DeepEqual(t, r.calls, want)

				// Until Reset.
				p.Reset()
				r.failAt = -1
				assert.NilError(t, p.Parse([]byte("PING\r\n"), r))
				assert.Equal(t, r.calls[len(r.calls)-1], "PING")
			})
		}
	}
}

func TestWrappedHandlerError(t *testing.T) {
	wrapped := fmt.Errorf("subscribe: %w", errStop)
	p := New(testMCL, testMPay)
	err := p.Parse([]byte("SUB foo 1\r\n"), errHandler{wrapped})
	assert.Equal(t, err, wrapped)
	assert.Assert(t, errors.Is(err, errStop))
}

type errHandler struct{ err error }

func (h errHandler) OnConnect([]byte) error                   { return h.err }
func (h errHandler) OnPing() error                            { return h.err }
func (h errHandler) OnPong() error                            { return h.err }
func (h errHandler) OnSub(_, _, _ []byte) error               { return h.err }
func (h errHandler) OnUnsub([]byte, int) error                { return h.err }
func (h errHandler) OnPub(_, _ []byte, _ int, _ []byte) error { return h.err }

func TestProtoErrorStickyUntilReset(t *testing.T) {
	p := New(testMCL, testMPay)
	r := newRecorder()
	err := p.Parse([]byte("XX"), r)
	assert.Assert(t, errors.Is(err, &ProtoError{Kind: UnknownOp}), "got %v", err)
	assert.Assert(t, !errors.Is(err, &ProtoError{Kind: BadArgs}))
	assert.Equal(t, p.Parse([]byte("PING\r\n"), r), err)
	assert.Assert(t, is.Len(r.calls, 0))

	p.Reset()
	assert.NilError(t, p.Parse([]byte("PING\r\n"), r))
	assert.DeepEqual(t, r.calls, []string{"PING"})
}

func TestResetDropsPartialOp(t *testing.T) {
	p := New(testMCL, testMPay)
	r := newRecorder()
	assert.NilError(t, p.Parse([]byte("PUB foo 5\r\nhel"), r))
	p.Reset()
	assert.NilError(t, p.Parse([]byte("PUB bar 2\r\nhi\r\n"), r))
	assert.DeepEqual(t, r.calls, []string{`PUB "bar" -1 "hi"`})
}

func TestErrorDetailNamesStreamOffset(t *testing.T) {
	p := New(testMCL, testMPay)
	r := newRecorder()
	assert.NilError(t, p.Parse([]byte("PING\r\n"), r))
	err := p.Parse([]byte("PONG\r\nPUX"), r)
	assert.ErrorContains(t, err, "'X' in state OP_PU at offset 14")
	assert.ErrorContains(t, err, "nats protocol: UnknownOp:")
}

func TestLargeSplitBody(t *testing.T) {
	for _, size := range []int{1, minBodyBuf, minBodyBuf + 1, keepBodyMax, keepBodyMax + 1, 200 << 10, bodyUpfront + 1, 3 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			p := New(-1, -1)
			msg := make([]byte, size)
			for i := range msg {
				msg[i] = byte('a' + i%26)
			}
			in := append(append([]byte(fmt.Sprintf("PUB s %d\r\n", size)), msg...), "\r\n"...)
			for _, cut := range []int{5, len(in) / 2, len(in) - 1} {
				var got []byte
				h := pubFunc(func(_, _ []byte, _ int, m []byte) error { got = append(got[:0], m...); return nil })
				assert.NilError(t, p.Parse(in[:cut], h))
				assert.NilError(t, p.Parse(in[cut:], h))
				assert.Assert(t, bytes.Equal(got, msg), "cut %d", cut)
			}
			assert.Assert(t, cap(p.keep) <= keepBodyMax)
		})
	}
}

// pubFunc is a Handler that only expects PUBs.
type pubFunc func(subject, reply []byte, hdrLen int, msg []byte) error

func (f pubFunc) OnConnect([]byte) error     { return errors.New("unexpected CONNECT") }
func (f pubFunc) OnPing() error              { return errors.New("unexpected PING") }
func (f pubFunc) OnPong() error              { return errors.New("unexpected PONG") }
func (f pubFunc) OnSub(_, _, _ []byte) error { return errors.New("unexpected SUB") }
func (f pubFunc) OnUnsub([]byte, int) error  { return errors.New("unexpected UNSUB") }
func (f pubFunc) OnPub(s, r []byte, h int, m []byte) error {
	return f(s, r, h, m)
}
