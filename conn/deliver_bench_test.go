package conn

import (
	"testing"

	"github.com/natsd/natsd/conn/subject"
)

// quietRouter is a cluster whose other servers want nothing: every
// message is matched against it and goes nowhere.
type quietRouter struct{}

func (quietRouter) InterestChanged(string, string, string, int) {}
func (quietRouter) Plan(*Outgoing) bool                         { return false }
func (quietRouter) Send(*Outgoing) int                          { return 0 }

// BenchmarkOnPubQueue is a whole PUB of 16 bytes, from the parser's
// callback to the queued MSG, to one plain subscriber or to one member of
// a queue group of three, without a cluster and in a cluster whose other
// servers have no interest in the subject.
func BenchmarkOnPubQueue(b *testing.B) {
	for _, tc := range []struct {
		name   string
		queue  string
		router Router
	}{
		{"plain", "", nil},
		{"queue", "q", nil},
		{"plain/routed", "", quietRouter{}},
		{"queue/routed", "q", quietRouter{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			sh := &Shared{Index: subject.NewIndex[*Subscription](), Stats: &Stats{}, Router: tc.router}
			cfg := &Config{MaxControlLine: 4096, MaxPayload: 1 << 20, MaxPending: 64 << 20}
			pub := New(1, &discardConn{}, cfg, sh)
			pub.opts.Verbose, pub.opts.Pedantic = false, false
			members := 1
			if tc.queue != "" {
				members = 3
			}
			var subs []*Conn
			var done []chan struct{}
			for i := range members {
				sub := New(uint64(2+i), &discardConn{}, cfg, sh)
				s := &Subscription{conn: sub, subject: "bench.x", queue: tc.queue, sid: "1"}
				if err := sub.auth.acc.insert(s); err != nil {
					b.Fatal(err)
				}
				ch := make(chan struct{})
				sub.live.Store(1)
				go func() { sub.writeLoop(); close(ch) }()
				subs, done = append(subs, sub), append(done, ch)
			}
			publishLoop(b, pub)
			for i, sub := range subs {
				sub.Close(ServerShutdown)
				<-done[i]
			}
		})
	}
}

// publishLoop publishes 16 B on bench.x from pub for the benchmark's
// loop, flushing every 1,024 messages and once at the end, as a reader
// flushes after each read.
func publishLoop(b *testing.B, pub *Conn) {
	h := (*protoHandler)(pub)
	subj, msg := []byte("bench.x"), []byte("0123456789abcdef")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.OnPub(subj, nil, -1, msg)
		if i++; i%1024 == 0 {
			pub.flushPending()
		}
	}
	pub.flushPending()
}
