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
// into an account already holding 100,000 of them. One op is one SUB.
func BenchmarkSubSpace(b *testing.B) {
	const (
		conns   = 1000
		preload = 100_000
		batch   = 20_000
	)
	sh := &Shared{Index: subject.NewIndex[*Subscription](), Stats: &Stats{}}
	cfg := &Config{MaxControlLine: 4096, MaxPayload: 1 << 20, MaxPending: 1 << 20}
	cs := make([]*Conn, conns)
	for i := range cs {
		cs[i] = New(uint64(i+1), &discardConn{}, cfg, sh)
		cs[i].opts.Verbose, cs[i].opts.Pedantic = false, false
	}
	sub := func(i int, line []byte) {
		c := cs[i%conns]
		if err := c.parser.Parse(line, (*protoHandler)(c)); err != nil {
			b.Fatal(err)
		}
	}
	for i := range preload {
		sub(i, spaceSubLine(i))
	}
	lines := make([][]byte, batch)
	b.ReportAllocs()
	i, k := preload, batch
	for b.Loop() {
		if k == batch {
			b.StopTimer()
			for j := range lines {
				lines[j] = spaceSubLine(i + j)
			}
			k = 0
			b.StartTimer()
		}
		sub(i, lines[k])
		i++
		k++
	}
	if got := sh.Index.Count(); got != i {
		b.Fatalf("the index holds %d subscriptions, want %d", got, i)
	}
}
