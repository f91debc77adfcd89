package parser

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Test limits: small enough that tables can cross them.
const (
	testMCL  = 64
	testMPay = 256
)

// recorder is a Handler that writes each call as one line of text and,
// when p is set, checks that every slice it is given lies inside the
// current buffer or the Parser's own scratch space and has len == cap.
type recorder struct {
	calls []string
	p     *Parser
	buf   []byte // the buffer of the Parse call in progress
	bad   []string
	// failAt makes the call with this index (0-based) return errStop.
	failAt int
}

var errStop = errors.New("handler says stop")

func newRecorder() *recorder { return &recorder{failAt: -1} }

func (r *recorder) add(format string, args ...any) error {
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
	if len(r.calls)-1 == r.failAt {
		return errStop
	}
	return nil
}

func (r *recorder) check(what string, s []byte) {
	if r.p == nil || s == nil {
		return
	}
	if len(s) != cap(s) {
		r.bad = append(r.bad, fmt.Sprintf("%s: len %d != cap %d", what, len(s), cap(s)))
	}
	if len(s) == 0 {
		return
	}
	for _, region := range [][]byte{r.buf, r.p.line, r.p.body} {
		if inside(s, region) {
			return
		}
	}
	r.bad = append(r.bad, fmt.Sprintf("%s %q: outside the read buffer and the scratch space", what, s))
}

// inside reports whether s lies within the backing array of region.
func inside(s, region []byte) bool {
	if cap(region) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(region[:1])))
	hi := lo + uintptr(cap(region))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return p >= lo && p+uintptr(len(s)) <= hi
}

func (r *recorder) OnConnect(arg []byte) error {
	r.check("connect", arg)
	return r.add("CONNECT %q", arg)
}

func (r *recorder) OnPing() error { return r.add("PING") }

func (r *recorder) OnPong() error { return r.add("PONG") }

func (r *recorder) OnSub(subject, queue, sid []byte) error {
	r.check("subject", subject)
	r.check("queue", queue)
	r.check("sid", sid)
	if queue == nil {
		return r.add("SUB %q %q", subject, sid)
	}
	return r.add("SUB %q %q %q", subject, queue, sid)
}

func (r *recorder) OnUnsub(sid []byte, max int) error {
	r.check("sid", sid)
	return r.add("UNSUB %q %d", sid, max)
}

func (r *recorder) OnPub(subject, reply []byte, hdrLen int, msg []byte) error {
	r.check("subject", subject)
	r.check("reply", reply)
	r.check("msg", msg)
	if hdrLen > len(msg) {
		r.bad = append(r.bad, fmt.Sprintf("hdrLen %d > len(msg) %d", hdrLen, len(msg)))
	}
	if reply == nil {
		return r.add("PUB %q %d %q", subject, hdrLen, msg)
	}
	return r.add("PUB %q %q %d %q", subject, reply, hdrLen, msg)
}

// result is what feeding a stream produced.
type result struct {
	calls []string
	err   error
	bad   []string
}

// kind is the ProtoError kind of err, 0 when it is no ProtoError.
func kind(err error) Kind {
	var pe *ProtoError
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return 0
}

// feed parses in as the chunks that cuts (ascending offsets) make of it.
// Each chunk is a fresh copy that is overwritten after its Parse call, so
// a Parser that kept a reference into it would be caught.
func feed(p *Parser, in []byte, cuts ...int) result {
	r := newRecorder()
	r.p = p
	var err error
	prev := 0
	for _, c := range append(cuts, len(in)) {
		chunk := append([]byte(nil), in[prev:c]...)
		prev = c
		r.buf = chunk
		err = p.Parse(chunk, r)
		for i := range chunk {
			chunk[i] = '#'
		}
		if err != nil {
			break
		}
	}
	return result{calls: r.calls, err: err, bad: r.bad}
}

// feedBytes parses in one byte per call.
func feedBytes(p *Parser, in []byte) result {
	cuts := make([]int, 0, len(in))
	for i := 1; i < len(in); i++ {
		cuts = append(cuts, i)
	}
	return feed(p, in, cuts...)
}
