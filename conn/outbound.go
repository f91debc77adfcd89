package conn

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// outbound is a connection's queued output. It is guarded by Conn.mu.
//
// Output is kept as a list of fixed-size chunks taken from shared pools, so
// queuing copies each byte once (never re-copying what is already queued as
// a growing buffer would) and an idle connection holds no output buffer at
// all: the writer returns every chunk to its pool once written. The writer
// takes the whole list and writes it with one writev while publishers
// start a new one.
type outbound struct {
	q        [][]byte // queued chunks, oldest first; each from a chunk pool
	pb       int64    // bytes in q
	added    int64    // bytes ever queued (see Conn.pingMark)
	inflight int64    // bytes the writer has taken and not yet finished writing
	// stall is the gate fast producers wait on (briefly, see
	// [Conn.stallWait]) while pending output is over three quarters of
	// max_pending, as nats-server's; the writer opens it (closes the channel)
	// after each write, and it is nil while no gate is up.
	stall chan struct{}
	// writing is set while a writer (the writer goroutine, or a producer
	// writing inline) has taken the queued list and is writing it; see
	// writer.go. spare is an emptied chunk list kept for the next take.
	writing bool
	spare   [][]byte
}

// Chunk sizes: a small chunk for the first bytes queued on a quiet
// connection (INFO, PONG, one message), larger ones once output builds up.
const (
	chunkSmall  = 512
	chunkMedium = 4 << 10
	chunkLarge  = 64 << 10
	// maxKeptList is the longest chunk list kept for reuse after a write.
	maxKeptList = 64
)

var (
	poolSmall  = sync.Pool{New: func() any { return new([chunkSmall]byte) }}
	poolMedium = sync.Pool{New: func() any { return new([chunkMedium]byte) }}
	poolLarge  = sync.Pool{New: func() any { return new([chunkLarge]byte) }}
)

// getChunk returns an empty chunk sized for need more bytes on top of
// queued ones.
func getChunk(need, queued int64) []byte {
	switch n := max(need, queued); {
	case n <= chunkSmall:
		return poolSmall.Get().(*[chunkSmall]byte)[:0]
	case n <= chunkMedium:
		return poolMedium.Get().(*[chunkMedium]byte)[:0]
	default:
		return poolLarge.Get().(*[chunkLarge]byte)[:0]
	}
}

// putChunk returns a chunk from getChunk to its pool.
func putChunk(b []byte) {
	switch cap(b) {
	case chunkSmall:
		poolSmall.Put((*[chunkSmall]byte)(b[:chunkSmall]))
	case chunkMedium:
		poolMedium.Put((*[chunkMedium]byte)(b[:chunkMedium]))
	case chunkLarge:
		poolLarge.Put((*[chunkLarge]byte)(b[:chunkLarge]))
	}
}

// append queues b: it fills the last chunk, then takes new ones.
func (o *outbound) append(b []byte) {
	o.pb += int64(len(b))
	o.added += int64(len(b))
	if n := len(o.q); n > 0 {
		last := o.q[n-1]
		k := copy(last[len(last):cap(last)], b)
		o.q[n-1] = last[:len(last)+k]
		b = b[k:]
	}
	for len(b) > 0 {
		ch := getChunk(int64(len(b)), o.pb)
		k := copy(ch[:cap(ch)], b)
		o.q = append(o.q, ch[:k])
		b = b[k:]
	}
}

func (o *outbound) pending() int64 { return o.pb + o.inflight }

// take removes and returns everything queued as one slice (for the TLS
// handshake, which writes the INFO itself before the writer starts).
func (o *outbound) take() []byte {
	out := make([]byte, 0, o.pb)
	for _, ch := range o.q {
		out = append(out, ch...)
	}
	recycle(o.q, true)
	o.q, o.pb = nil, 0
	o.openGate()
	return out
}

// drop lets go of everything queued, for a closed connection, and returns
// how many bytes of chunks that was. The chunks are not pooled: a slow
// consumer may have held max_pending of them, and pooled they would stay
// reachable for two more garbage collections (see [reclaim]).
func (o *outbound) drop() int64 {
	n := recycle(o.q, false)
	o.q, o.pb = nil, 0
	o.openGate()
	return n
}

// recycle clears the chunk list q, putting each chunk back into its pool
// if pool is set, and returns the chunks' total capacity.
func recycle(q [][]byte, pool bool) int64 {
	var n int64
	for i, ch := range q {
		n += int64(cap(ch))
		if pool {
			putChunk(ch)
		}
		q[i] = nil
	}
	return n
}

// openGate releases the producers waiting on the stall gate, if one is up.
func (o *outbound) openGate() {
	if o.stall != nil {
		close(o.stall)
		o.stall = nil
	}
}

// signal has the writer goroutine write what is queued, starting it if
// the connection has none yet (see [Conn.kickLocked]), for output that
// should not be written inline: a backlog, or a receiver a producer is
// waiting on. Once the writer runs, it only wakes it, without the lock:
// whoever changed what the writer waits on (queued output, the state) did
// so under c.mu, so a writer that is not waiting sees the change when it
// next looks.
func (c *Conn) signal() {
	if c.writerUp.Load() {
		c.wake.Signal()
		return
	}
	c.mu.Lock()
	c.kickLocked()
	c.mu.Unlock()
}

// queue appends protocol bytes (INFO, PONG, +OK, -ERR) to the outbound
// buffer. It drops them once the connection has left Open. Like a message,
// they count against max_pending: a client that sends PINGs (or earns +OK
// or -ERR) faster than it reads its answers is closed as a slow consumer,
// as nats-server closes it, instead of growing the server without bound.
func (c *Conn) queue(b []byte) {
	c.mu.Lock()
	over := false
	if c.State() == Open {
		c.out.append(b)
		over = c.overPending()
	}
	c.mu.Unlock()
	if over {
		c.closeOverPending()
	}
}

// closeOverPending closes the connection as a slow consumer whose output
// went over max_pending, counting and logging it as nats-server does.
func (c *Conn) closeOverPending() {
	c.slowConsumer("MaxPending of " + strconv.FormatInt(c.lim().MaxPending, 10) + " Exceeded")
	c.Close(SlowConsumerPendingBytes)
}

// overPending reports whether the pending output (queued and being
// written) is over max_pending. c.mu must be held.
func (c *Conn) overPending() bool {
	mp := c.lim().MaxPending
	return mp > 0 && c.out.pending() > mp
}

// writeLoop is the connection's writer goroutine, started when inline
// writes are not enough (see writer.go): it writes what is queued whenever
// it is woken and, once the connection is Closing, does the final flush
// (unless a skip-flush reason was recorded), ends the reader's read and
// returns; the socket is closed by whichever of the two returns last.
func (c *Conn) writeLoop() {
	defer c.goroutineDone()
	var iovBase net.Buffers // writev's working copy of the chunk list
	c.mu.Lock()
	c.setWriterRunningLocked()
	for {
		for c.out.writing || (c.out.pb == 0 && c.State() == Open) {
			c.wake.Wait()
		}
		q, n := c.out.takeAll()
		c.out.writing = true
		closing := c.State() != Open
		c.mu.Unlock()

		var err error
		if n > 0 && !(closing && c.SkipFlush()) {
			// WriteTo consumes (reslices and clears) the list it is given;
			// the chunks themselves still go back to their pools.
			iovBase = append(iovBase[:0], q...)
			iov := iovBase
			err = c.write(&iov)
			clear(iovBase)
		}
		// Once the connection is closing, nothing is pooled: the memory
		// goes back as soon as it can (see outbound.drop).
		if released := recycle(q, err == nil && !closing); err != nil || closing {
			reclaim(released)
		}
		if cap(iovBase) > maxKeptList {
			iovBase = nil
		}

		c.mu.Lock()
		if cap(q) <= maxKeptList && c.out.spare == nil {
			c.out.spare = q[:0]
		}
		c.out.inflight = 0
		c.out.writing = false
		c.out.openGate()
		if err == nil && !closing {
			continue // with mu held
		}
		c.mu.Unlock()
		if err != nil {
			reason := writeErrorReason(err)
			if reason == SlowConsumerWriteDeadline {
				c.slowConsumer(fmt.Sprintf("WriteDeadline of %v exceeded with %d chunks of %d total bytes.", c.lim().WriteDeadline, len(q), n))
			}
			c.Close(reason)
			c.nc.Close()
			return
		}
		// The final flush is done. End the reader's read rather than
		// closing the socket under it: the last of the two goroutines
		// closes the socket (see goroutineDone), so neither waits for the
		// other to let go of it.
		c.endRead()
		return
	}
}

// pongWait is how long a closing connection waits for the PONG to its
// unanswered PING (see [Conn.endRead]): long enough for a client that
// reads to get through the end of the flush and answer (eight round trips,
// at least minPongWait), never longer than write_deadline. Only a PING
// sent within that time is waited for: a client that ignores PINGs (idle
// clients that do are common) must not hold a shutdown up. nats-server
// does not wait at all.
func pongWait(rtt, writeDeadline time.Duration) time.Duration {
	w := max(8*rtt, minPongWait)
	if writeDeadline > 0 {
		w = min(w, writeDeadline)
	}
	return w
}

// minPongWait is the shortest wait for a closing client's PONG.
const minPongWait = 500 * time.Millisecond

// aLongTimeAgo is a deadline in the past, which ends a blocked read at once.
var aLongTimeAgo = time.Unix(1, 0)

// endRead ends the reader's read once the final flush is done. A shutdown
// or lame-duck close (ServerShutdown) promises the client everything that
// was queued for it. A client answers our PING once it has read it, and a
// PONG that reaches a socket already closed is answered with a reset,
// which throws away whatever the client has not read yet. That loses
// something only when output followed the (first unanswered) PING: the
// end of the flush, or messages sent before it. Then, with the PING sent
// within [pongWait], the write side is closed first (the client reads
// everything, then a clean EOF) and the reader reads on until the PONG
// (see [closingHandler]), the client's close, or pongWait. Otherwise (no
// PING unanswered, nothing after it, a client that has ignored it for
// longer, or a socket without a write side of its own) the read ends at
// once: an idle client that never answers PINGs holds no shutdown up.
func (c *Conn) endRead() {
	c.mu.Lock()
	c.flushed = true
	wait, answerDue := c.pongDueLocked(time.Now())
	c.mu.Unlock()
	if cw, ok := c.rw.(interface{ CloseWrite() error }); ok && answerDue && cw.CloseWrite() == nil {
		c.nc.SetReadDeadline(time.Now().Add(wait))
		return
	}
	c.nc.SetReadDeadline(aLongTimeAgo)
}

// pongDueLocked says whether the closing connection is to wait for the
// client's PONG (see [Conn.endRead]) at now, and for how long.
func (c *Conn) pongDueLocked(now time.Time) (time.Duration, bool) {
	wait := pongWait(c.rtt, c.lim().WriteDeadline)
	due := c.pingsOut > 0 && c.Reason() == ServerShutdown &&
		c.out.added != c.pingMark && now.Sub(time.Unix(0, c.lastPing)) < wait
	return wait, due
}

// write writes the chunks within the write deadline, with one writev on a
// plain socket.
func (c *Conn) write(iov *net.Buffers) error {
	if d := c.lim().WriteDeadline; d > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(d))
	}
	_, err := iov.WriteTo(c.rw)
	return err
}

func writeErrorReason(err error) ClosedState {
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return SlowConsumerWriteDeadline
	}
	return WriteError
}

func itoa(i int) string { return strconv.Itoa(i) }
