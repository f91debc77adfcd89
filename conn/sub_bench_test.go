package conn

import (
	"fmt"
	"testing"

	"github.com/natsd/natsd/conn/subject"
)

// spaceMatching are the ten patterns of a subject-space group (see
// bench/space.go); all match sp.G.a.b.c.
var spaceMatching = [...]string{"a.b.c", "*.b.c", "a.*.c", "a.b.*", "*.*.c", "*.b.*", "a.*.*", "*.*.*", "a.>", ">"}

// spaceSubLine is the SUB line of subscription i of the subject-space
// bench row: groups of 20, ten literal subjects sp.G.l.0 … sp.G.l.9, then
// the ten patterns; the SID is i+1.
func spaceSubLine(i int) []byte {
	g, j := i/20, i%20
	if j < 10 {
		return fmt.Appendf(nil, "SUB sp.%d.l.%d %d\r\n", g, j, i+1)
	}
	return fmt.Appendf(nil, "SUB sp.%d.%s %d\r\n", g, spaceMatching[j-10], i+1)
}

// BenchmarkSubSpace is the server side of the subject-space bench row's
// subscribe step without the sockets: SUB lines of its mix, parsed and
// handled by the reader's code, subscription i on connection i mod 1,000,
// each connection's lines in one read of 10 (as in the row's step to
// 100,000, where each of 10,000 connections gets 10), into an account
// already holding 100,000 of them. One op is one read of 10 SUBs; ns/sub
// is the time per SUB.
func BenchmarkSubSpace(b *testing.B) {
	const (
		conns   = 1000
		preload = 100_000
		perRead = 10
		batch   = 20 * conns * perRead // subscriptions prepared at once
	)
	sh := &Shared{Index: subject.NewIndex[*Subscription](), Stats: &Stats{}}
	cfg := &Config{MaxControlLine: 4096, MaxPayload: 1 << 20, MaxPending: 1 << 20}
	cs := make([]*Conn, conns)
	for i := range cs {
		cs[i] = New(uint64(i+1), &discardConn{}, cfg, sh)
		cs[i].opts.Verbose, cs[i].opts.Pedantic = false, false
	}
	// reads returns, for subscriptions [from, from+n) (n a multiple of
	// conns*perRead), each connection's reads in turn.
	reads := func(from, n int) [][]byte {
		var out [][]byte
		for r := 0; r < n; r += conns * perRead {
			for c := range conns {
				var buf []byte
				for k := range perRead {
					buf = append(buf, spaceSubLine(from+r+c+k*conns)...)
				}
				out = append(out, buf)
			}
		}
		return out
	}
	read := func(j int, buf []byte) {
		c := cs[j%conns]
		if err := c.parser.Parse(buf, (*protoHandler)(c)); err != nil {
			b.Fatal(err)
		}
	}
	for j, buf := range reads(0, preload) {
		read(j, buf)
	}
	next := preload
	var bufs [][]byte
	j := 0
	b.ReportAllocs()
	for b.Loop() {
		if j == len(bufs) {
			b.StopTimer()
			bufs, j = reads(next, batch), 0
			next += batch
			b.StartTimer()
		}
		read(j, bufs[j])
		j++
	}
	subs := next - preload - (len(bufs)-j)*perRead
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(subs), "ns/sub")
	if got := sh.Index.Count(); got != preload+subs {
		b.Fatalf("the index holds %d subscriptions, want %d", got, preload+subs)
	}
}
