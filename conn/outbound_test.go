package conn

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/natsd/natsd/conn/subject"
)

// discardConn is a socket that accepts every write at once and counts the
// bytes, for measuring the outbound path without a peer.
type discardConn struct {
	net.Conn
	n atomic.Int64
}

func (d *discardConn) Write(b []byte) (int, error)      { d.n.Add(int64(len(b))); return len(b), nil }
func (d *discardConn) Close() error                     { return nil }
func (d *discardConn) SetWriteDeadline(time.Time) error { return nil }
func (d *discardConn) SetReadDeadline(time.Time) error  { return nil }
func (d *discardConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4222}
}

// benchDeliver measures the outbound path of one message of size bytes:
// deliver (format MSG, queue it for the subscriber) and the subscriber's
// writer taking it to the socket. The writer runs concurrently, as in the
// server, and is woken at the end of every "read batch" of batch messages.
func benchDeliver(b *testing.B, size int) {
	sh := &Shared{Index: subject.NewIndex[*Subscription](), Stats: &Stats{}}
	cfg := &Config{MaxControlLine: 4096, MaxPayload: 1 << 20, MaxPending: 64 << 20}
	pub := New(1, &discardConn{}, cfg, sh)
	dc := &discardConn{}
	sub := New(2, dc, cfg, sh)
	s := &Subscription{conn: sub, subject: "foo.bar", sid: "1"}
	writerDone := make(chan struct{})
	sub.live.Store(1) // only the writer runs
	go func() { sub.writeLoop(); close(writerDone) }()

	subj := []byte("foo.bar")
	msg := []byte(strings.Repeat("x", size))
	const batch = 1024
	b.SetBytes(int64(size))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		pub.deliver(s, subj, nil, -1, msg)
		if i++; i%batch == 0 {
			pub.flushPending()
		}
	}
	pub.flushPending()
	if r := sub.Reason(); r != 0 {
		b.Fatalf("subscriber closed during the run: %v", r)
	}
	sub.Close(ServerShutdown)
	<-writerDone
	if dc.n.Load() == 0 {
		b.Fatal("nothing was written")
	}
}

// BenchmarkOutbound16B is the outbound path of a 16-byte message.
func BenchmarkOutbound16B(b *testing.B) { benchDeliver(b, 16) }

// BenchmarkOutbound1KiB is the outbound path of a 1 KiB message.
func BenchmarkOutbound1KiB(b *testing.B) { benchDeliver(b, 1024) }
