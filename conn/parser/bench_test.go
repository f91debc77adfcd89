package parser

import (
	"strconv"
	"strings"
	"testing"
)

// nopHandler accepts everything and touches the message, as a consumer
// would.
type nopHandler struct{ n, bytes int }

func (h *nopHandler) OnConnect([]byte) error     { return nil }
func (h *nopHandler) OnPing() error              { return nil }
func (h *nopHandler) OnPong() error              { return nil }
func (h *nopHandler) OnSub(_, _, _ []byte) error { return nil }
func (h *nopHandler) OnUnsub([]byte, int) error  { return nil }
func (h *nopHandler) OnPub(_, _ []byte, _ int, msg []byte) error {
	h.n++
	h.bytes += len(msg)
	return nil
}

// readSize is a typical read buffer: nats-server reads up to 64 KiB.
const readSize = 64 << 10

// pubs returns a stream of whole "PUB foo.bar <size>" ops, about readSize
// bytes long, and how many ops it holds.
func pubs(size int) ([]byte, int) {
	op := "PUB foo.bar " + strconv.Itoa(size) + "\r\n" + strings.Repeat("x", size) + "\r\n"
	n := max(1, readSize/len(op))
	return []byte(strings.Repeat(op, n)), n
}

func benchPub(b *testing.B, size int) {
	buf, n := pubs(size)
	p := New(4096, 1<<20)
	h := &nopHandler{}
	b.SetBytes(int64(len(buf) / n))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += n {
		if err := p.Parse(buf, h); err != nil {
			b.Fatal(err)
		}
	}
}

// One op per iteration, ops whole within each read: ns/op is per PUB.
func BenchmarkParsePub16B(b *testing.B)  { benchPub(b, 16) }
func BenchmarkParsePub1KiB(b *testing.B) { benchPub(b, 1024) }

// BenchmarkParseSplit feeds the 16-byte PUB stream in reads of 100 bytes,
// so that most reads end inside an op. One op per iteration.
func BenchmarkParseSplit(b *testing.B) {
	buf, n := pubs(16)
	const chunk = 100
	p := New(4096, 1<<20)
	h := &nopHandler{}
	b.SetBytes(int64(len(buf) / n))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += n {
		for off := 0; off < len(buf); off += chunk {
			if err := p.Parse(buf[off:min(off+chunk, len(buf))], h); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParseSubUnsub is the control-line path: one op per iteration.
func BenchmarkParseSubUnsub(b *testing.B) {
	op := "SUB foo.bar.baz q 12345\r\nUNSUB 12345 10\r\n"
	n := readSize / len(op)
	buf := []byte(strings.Repeat(op, n))
	n *= 2
	p := New(4096, 1<<20)
	h := &nopHandler{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += n {
		if err := p.Parse(buf, h); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseAllocatesNothing(t *testing.T) {
	for _, size := range []int{0, 16, 1024} {
		buf, _ := pubs(size)
		p := New(4096, 1<<20)
		h := &nopHandler{}
		allocs := testing.AllocsPerRun(20, func() {
			if err := p.Parse(buf, h); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("PUB %d: %v allocations per read", size, allocs)
		}
	}
	// Split reads allocate only while the scratch space grows.
	buf, _ := pubs(16)
	p := New(4096, 1<<20)
	h := &nopHandler{}
	split := func() {
		for off := 0; off < len(buf); off += 7 {
			if err := p.Parse(buf[off:min(off+7, len(buf))], h); err != nil {
				t.Fatal(err)
			}
		}
	}
	split()
	if allocs := testing.AllocsPerRun(20, split); allocs != 0 {
		t.Errorf("split: %v allocations per read", allocs)
	}
}
