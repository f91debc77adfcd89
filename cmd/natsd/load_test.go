package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/internal/soak"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// payloadFor is the body publisher pub sends as its message seq: the two
// numbers, then filler derived from them, so that a receiver can tell a
// corrupted or misattributed body from a good one.
func payloadFor(pub, seq int) []byte {
	b := fmt.Appendf(make([]byte, 0, 48), "%04d:%010d:", pub, seq)
	for i := len(b); i < 48; i++ {
		b = append(b, 'a'+byte((pub*7+seq*13+i)%26))
	}
	return b
}

// loadSub is a raw subscriber to load.> that checks every message as it
// reads it: the body is exactly what its publisher sent for that
// sequence, and each publisher's sequences arrive 1, 2, 3, ... with no
// gap, duplicate or reordering.
type loadSub struct {
	nc       net.Conn
	next     []int // per publisher, the sequence expected next
	received int64
	progress []atomic.Int64 // per publisher, the last sequence received
	bad      []string       // the first problems seen
	end      error          // how reading ended: nil for a clean EOF
	done     chan struct{}
}

func (s *loadSub) fail(format string, args ...any) {
	if len(s.bad) < 5 {
		s.bad = append(s.bad, fmt.Sprintf(format, args...))
	}
}

func (s *loadSub) run() {
	defer close(s.done)
	r := bufio.NewReaderSize(s.nc, 64*1024)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			if err != io.EOF || len(line) > 0 {
				s.end = fmt.Errorf("read (after %q): %w", line, err)
			}
			return
		}
		switch {
		case bytes.HasPrefix(line, []byte("MSG ")):
			f := bytes.Fields(line[4:])
			if len(f) != 3 {
				s.fail("bad MSG line %q", line)
				return
			}
			subj := string(f[0])
			size, err := strconv.Atoi(string(f[2]))
			if err != nil {
				s.fail("bad MSG size in %q", line)
				return
			}
			body := make([]byte, size+2)
			if _, err := io.ReadFull(r, body); err != nil {
				s.end = fmt.Errorf("read body of %q: %w", subj, err)
				return
			}
			s.check(subj, body[:size])
		case string(line) == "PING\r\n":
			s.nc.Write([]byte("PONG\r\n"))
		default:
			s.fail("unexpected line %q", line)
		}
	}
}

func (s *loadSub) check(subj string, body []byte) {
	s.received++
	var pub, seq int
	if _, err := fmt.Sscanf(string(body), "%04d:%010d:", &pub, &seq); err != nil || pub < 0 || pub >= len(s.next) {
		s.fail("message on %s with a body no publisher sent: %q", subj, body)
		return
	}
	if !bytes.Equal(body, payloadFor(pub, seq)) {
		s.fail("corrupt body for publisher %d sequence %d: %q", pub, seq, body)
	}
	if want := fmt.Sprintf("load.%d", pub); subj != want {
		s.fail("publisher %d's message arrived on %s", pub, subj)
	}
	switch want := s.next[pub]; {
	case seq < want:
		s.fail("publisher %d: sequence %d again or out of order (expected %d)", pub, seq, want)
	case seq > want:
		s.fail("publisher %d: sequences %d..%d missing", pub, want, seq-1)
	}
	s.next[pub] = seq + 1
	s.progress[pub].Store(int64(seq))
}

// slowest returns the last sequence of publisher pub that every
// subscriber has received.
func slowest(readers []*loadSub, pub int) int64 {
	low := int64(-1)
	for _, r := range readers {
		if p := r.progress[pub].Load(); low < 0 || p < low {
			low = p
		}
	}
	return low
}

// TestShutdownUnderPublishLoad: publishers publish as fast as natsd and
// the subscribers carry their messages while subscribers read them all;
// then natsd gets SIGTERM.
//
// A publisher never runs more than window messages ahead of the slowest
// subscriber: without that, publishers outrun a 50-fold fan-out, the
// backlog grows until max_pending or write_deadline make the subscribers
// slow consumers (whose loss the stuck-client suite covers), and no
// subscriber would be "live" by the time shutdown begins.
//
// "Accepted before shutdown began" is defined by the publishers: each
// flushes (PING/PONG) every 128 messages, and a PONG means natsd has
// processed every PUB before it, which queues each message to every
// matching subscriber. The test notes each publisher's last acknowledged
// sequence just before it sends SIGTERM; every subscriber (all are live:
// they read all the time) must then have received every one of those, and
// nothing else than what was published: exact bodies, per-publisher order,
// no gap, no duplicate. natsd exits 0 within shutdown_timeout with every
// connection closed "Server Shutdown". Sizes: 8 publishers and 8
// subscribers for 1 s in make test; 50 and 50 for 10 s under NATSD_SOAK=1.
func TestShutdownUnderPublishLoad(t *testing.T) {
	prepareNatsd(t)
	pubs, subs := soak.Size(8, 50), soak.Size(8, 50)
	loadFor := soak.Size(time.Second, 10*time.Second)
	const (
		batch    = 128
		window   = 1024
		deadline = 10 * time.Second
	)
	logPath := filepath.Join(t.TempDir(), "natsd.log")
	conf := writeConf(t, fmt.Sprintf("shutdown_timeout: %q\n", deadline))
	p := startNatsd(t, "-c", conf, "-D", "-l", logPath)

	readers := make([]*loadSub, subs)
	for i := range readers {
		nc, err := soak.DialNATS(p.addr(), "SUB load.> 1\r\n", 10*time.Second)
		assert.NilError(t, err)
		defer nc.Close()
		readers[i] = &loadSub{nc: nc, next: make([]int, pubs), progress: make([]atomic.Int64, pubs), done: make(chan struct{})}
		for j := range readers[i].next {
			readers[i].next[j] = 1
		}
		go readers[i].run()
	}

	var (
		stop        atomic.Bool
		sent, acked = make([]atomic.Int64, pubs), make([]atomic.Int64, pubs)
		wg          sync.WaitGroup
	)
	for i := range pubs {
		nc, err := nats.Connect(p.url(), nats.NoReconnect(), nats.Timeout(10*time.Second))
		assert.NilError(t, err)
		defer nc.Close()
		subj := fmt.Sprintf("load.%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 1; !stop.Load(); seq++ {
				if nc.Publish(subj, payloadFor(i, seq)) != nil {
					return
				}
				sent[i].Store(int64(seq))
				if seq%batch == 0 {
					if nc.FlushTimeout(deadline) != nil {
						return
					}
					acked[i].Store(int64(seq))
					for !stop.Load() && int64(seq)-slowest(readers, i) > window {
						time.Sleep(100 * time.Microsecond) // flow control, not a wait for an event
					}
				}
			}
		}()
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		for i := range acked {
			if acked[i].Load() == 0 {
				return poll.Continue("publisher %d has no batch acknowledged yet", i)
			}
		}
		return poll.Success()
	}, poll.WithTimeout(20*time.Second))
	<-time.After(loadFor)

	// Shutdown begins after this line: what was acknowledged by now was
	// accepted before.
	accepted := make([]int64, pubs)
	for i := range acked {
		accepted[i] = acked[i].Load()
	}
	start := time.Now()
	p.signal(syscall.SIGTERM)
	assert.Assert(t, p.exitedWithin(deadline+10*time.Second), "natsd did not exit")
	took := time.Since(start)
	stop.Store(true)
	wg.Wait()
	t.Logf("SIGTERM to exit: %v", took)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("natsd log (last 3000 bytes):\n%s", tail(readFile(logPath), 3000))
		}
	})
	assert.Equal(t, p.exitCode(), 0, "%v", p.err)
	assert.Assert(t, took < deadline, "shutdown under load took %v, over shutdown_timeout %v", took, deadline)
	assert.Assert(t, !strings.Contains(readFile(logPath), "Shutdown timeout"), "connections were force-closed at shutdown_timeout")

	var totalSent, received, lost int64
	for i := range sent {
		totalSent += sent[i].Load()
	}
	for i, r := range readers {
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			t.Fatalf("subscriber %d still reading 20 s after natsd exited", i)
		}
		assert.NilError(t, r.end, "subscriber %d did not end with a clean EOF", i)
		assert.Assert(t, len(r.bad) == 0, "subscriber %d: %v", i, r.bad)
		received += r.received
		for pub := range pubs {
			got := int64(r.next[pub] - 1)
			if got < accepted[pub] {
				lost += accepted[pub] - got
				t.Errorf("subscriber %d has publisher %d's messages up to %d, but %d were accepted before shutdown began", i, pub, got, accepted[pub])
			}
			assert.Assert(t, got <= sent[pub].Load(), "subscriber %d got publisher %d's sequence %d, never sent", i, pub, got)
		}
	}
	var acceptedTotal int64
	for _, a := range accepted {
		acceptedTotal += a
	}

	log := readFile(logPath)
	assert.Equal(t, countLines(log, "Client connection closed: Server Shutdown"), pubs+subs)
	assert.Equal(t, countLines(log, "Client connection closed:"), pubs+subs)
	assert.Equal(t, panics(log+p.out.String()), 0)
	assert.DeepEqual(t, checkTransitions(t, log), []string{"init", "listening", "shutting_down", "stopped"})
	t.Logf("%d publishers sent %d messages (%d accepted before SIGTERM); %d subscribers received %d; lost %d; SIGTERM to exit %v; max RSS %d KiB",
		pubs, totalSent, acceptedTotal, subs, received, lost, took, p.maxRSSKiB())
	assert.NilError(t, soak.Record(soak.Figures{
		Suite: "shutdown under publish load", Mode: "process", Connections: pubs + subs,
		Sent: totalSent, Received: received, Lost: lost,
		Shutdown: took, Deadline: deadline, MaxRSSKiB: p.maxRSSKiB(),
		GoroutinesBefore: -1, GoroutinesPeak: -1, GoroutinesAfter: -1, FDsBefore: -1, FDsPeak: -1, FDsAfter: -1,
		Signals: 1, Panics: panics(log + p.out.String()),
		Notes: fmt.Sprintf("%d publishers, %d subscribers to load.>, %v of load; %d messages accepted before SIGTERM, each due to every subscriber (%d deliveries)",
			pubs, subs, loadFor, acceptedTotal, acceptedTotal*int64(subs)),
	}))
}
