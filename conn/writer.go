package conn

import (
	"fmt"
	"syscall"
)

// Who writes a connection's output. Most output is small and goes out at
// once: the goroutine that queued it (a publisher's reader at the end of
// its read, the reader for its own PONG, the ping timer) writes it inline
// with one non-blocking writev, as long as nobody else is writing and the
// socket takes it all. The writer goroutine is started only when that is
// not enough: a write the socket could not take in full, more than
// inlineMax queued at a flush (or flushNowBytes during a read), output
// still queued after inlineRounds writes, a socket without inline writes
// (TLS, or a socket that is not a file descriptor), or a final flush with
// output left to write. Once
// started it writes all of the connection's output and stays until the
// connection closes: a connection that needed it once (a backlog, many
// publishers writing to it at once) is a busy one, and the writer beside
// the publishers' readers gathers their output into fewer, larger writes
// while they read on. A connection that never had a backlog never has a
// writer goroutine: an idle connection costs one goroutine, its reader.
//
// Exactly one writer at a time: whoever takes the queued output (the
// writer goroutine or an inline writer) sets outbound.writing under c.mu
// and, when it is done, looks again at what was queued meanwhile. The
// writer role (one of the two counts in Conn.live) ends once: in the writer
// goroutine as it returns, or, when the connection closes without one, in
// finishWriter.

// writerState is the state of a connection's writer role. It is guarded by
// Conn.mu and only moves forward: writerNone → writerRunning, or
// writerNone → writerDone.
type writerState uint8

const (
	// writerNone: no writer goroutine; output is written inline. Next:
	// writerRunning (one is started) or writerDone (closed without one).
	writerNone writerState = iota
	// writerRunning: the writer goroutine was started; it does the final
	// flush and ends the writer role. Final.
	writerRunning
	// writerDone: the connection closed without a writer goroutine and its
	// writer role was ended without one (nothing was left to flush, or the
	// flush was skipped). Final.
	writerDone
)

var writerStateNames = []string{writerNone: "none", writerRunning: "running", writerDone: "done"}

// String returns the state's name.
func (s writerState) String() string {
	if int(s) < len(writerStateNames) {
		return writerStateNames[s]
	}
	return fmt.Sprintf("writerState(%d)", int(s))
}

// inlineMax is the most queued output written inline; more is left to the
// writer goroutine, so that a publisher's reader never spends long writing
// a busy subscriber's socket (the writer runs beside it instead).
const inlineMax = 4 << 10

// ready marks the connection as ready for output, once Run has set up its
// socket (after the TLS handshake): from then on output is written inline
// or by a writer goroutine started with spawn. Before, output stays queued,
// and a close only records its reason: the final flush of a connection
// closed before it was ready starts here.
func (c *Conn) ready(spawn func(func())) {
	var raw syscall.RawConn
	if inlineWrites && c.writesToSocket() {
		if sc, ok := c.nc.(syscall.Conn); ok {
			raw, _ = sc.SyscallConn()
		}
	}
	c.mu.Lock()
	c.spawn, c.raw = spawn, raw
	f := c.finalFlushLocked()
	c.mu.Unlock()
	if f != nil {
		f()
	}
}

// writesToSocket reports whether what the connection writes goes to its
// socket unchanged (no TLS layer in between).
func (c *Conn) writesToSocket() bool {
	if c.rw == c.nc {
		return true
	}
	p, ok := c.rw.(*prefixConn)
	return ok && p.Conn == c.nc
}

// flush has the queued output written now: inline when it is small, the
// socket allows it and nobody else is writing, else by the writer
// goroutine (started if need be). It never blocks on the socket. It is
// what a producer calls once it has queued output (a reader at the end of
// its read, for every connection it queued to). Output queued by others
// while it writes is written too, for a few rounds (someone writing is why
// they did not write it themselves).
func (c *Conn) flush() {
	if c.writerUp.Load() {
		// The writer goroutine writes everything; waking it needs no
		// lock (see [Conn.signal]).
		c.wake.Signal()
		return
	}
	c.mu.Lock()
	wrote := false
	for round := 0; c.out.pb > 0 && c.State() == Open; round++ {
		if c.out.writing || c.wstate != writerNone || c.raw == nil || c.out.pb > inlineMax || round == inlineRounds {
			c.kickLocked()
			break
		}
		q, n := c.out.takeAll()
		c.out.writing = true
		c.mu.Unlock()

		w, err := writeNow(c.raw, q)

		c.mu.Lock()
		wrote = true
		c.out.inflight = 0
		c.out.writing = false
		if err != nil {
			c.out.openGate()
			c.mu.Unlock()
			reclaim(recycle(q, false))
			c.Close(writeErrorReason(err))
			c.nc.Close()
			c.mu.Lock()
			break
		}
		if w > 0 {
			c.out.openGate()
		}
		c.out.putBack(q, w, n)
		if w < n {
			// The socket is full: the writer goroutine waits for it.
			c.kickLocked()
			break
		}
	}
	if wrote {
		c.writerIdleLocked()
	}
	c.mu.Unlock()
}

// inlineRounds is how many writes one flush makes at most.
const inlineRounds = 4

// writerIdleLocked is what an inline writer does once it has let go of the
// output (c.mu held): it tells whoever waits for the write to be over (the
// writer goroutine, or the reader as it ends: see [Conn.readerDone]), and
// a connection that began closing meanwhile gets its final flush (see
// [Conn.finalFlushLocked]).
func (c *Conn) writerIdleLocked() {
	c.wake.Broadcast()
	if c.State() != Open {
		if f := c.finalFlushLocked(); f != nil {
			c.mu.Unlock()
			f()
			c.mu.Lock()
		}
	}
}

// kickLocked makes sure the writer goroutine will write what is queued
// (c.mu held): it wakes it, or starts it if the connection has none yet
// and is ready. Nothing is needed while someone is writing: they look at
// the queue again when done.
func (c *Conn) kickLocked() {
	switch {
	case c.out.writing:
	case c.wstate == writerRunning:
		c.wake.Signal()
	case c.wstate == writerNone && c.spawn != nil && c.State() == Open:
		c.startWriterLocked()
	}
}

// startWriterLocked starts the writer goroutine (c.mu held). It is started
// while the connection's reader is still running (the connection is open,
// or the reader itself is ending the writer role), so the server's
// tracking of the connection's goroutines never drops to none in between.
func (c *Conn) startWriterLocked() {
	c.setWriterRunningLocked()
	c.spawn(c.writeLoop)
}

// setWriterRunningLocked records that the writer goroutine runs (c.mu
// held); it does for good.
func (c *Conn) setWriterRunningLocked() {
	c.wstate = writerRunning
	c.writerUp.Store(true)
}

// finalFlushLocked starts the writer role's end for a closing connection
// that has no writer goroutine (c.mu held) and returns what the caller must
// run once it has let go of c.mu, or nil. With output to flush (and no
// skip-flush reason), the writer goroutine is started to flush it and end
// the role, as it would have; with nothing to flush, the role ends at
// once in [Conn.finishWriter]. Nothing is done while an inline write is
// under way (its writer calls this again when done), before the
// connection is ready, or once the role's end has begun.
func (c *Conn) finalFlushLocked() func() {
	if c.wstate != writerNone || c.out.writing || c.spawn == nil || c.State() == Open {
		return nil
	}
	if c.out.pb > 0 && !c.SkipFlush() {
		c.startWriterLocked()
		return nil
	}
	c.wstate = writerDone
	return c.finishWriter
}

// finishWriter ends the writer role of a closing connection without a
// writer goroutine, as the writer goroutine would end it with nothing to
// write: it lets go of what was queued (a skipped flush), ends the
// reader's read and counts the role done.
func (c *Conn) finishWriter() {
	c.mu.Lock()
	q := c.out.q
	c.out.q, c.out.pb = nil, 0
	c.out.openGate()
	c.mu.Unlock()
	reclaim(recycle(q, false))
	c.endRead()
	c.goroutineDone()
}

// readerDone is the reader's end (or that of Run, for a connection closed
// before it ran): it makes sure the writer role ends too, waiting out an
// inline write that is under way, then counts the reader done.
func (c *Conn) readerDone() {
	c.mu.Lock()
	for c.wstate == writerNone && c.out.writing {
		c.wake.Wait()
	}
	f := c.finalFlushLocked()
	c.mu.Unlock()
	if f != nil {
		f()
	}
	c.goroutineDone()
}

// takeAll removes the queued chunk list for a writer and returns it with
// its size, counting it in flight; a spare list takes its place. o.mu is
// held by the caller (Conn.mu).
func (o *outbound) takeAll() ([][]byte, int64) {
	q, n := o.q, o.pb
	o.q, o.pb = o.spare, 0
	o.spare = nil
	o.inflight = n
	return q, n
}

// putBack returns the chunk list q, of n bytes of which the first w were
// written, after a write: the written chunks go back to their pools, what
// is left goes back in front of anything queued since, and the emptied
// list is kept as the spare when small. Conn.mu is held.
func (o *outbound) putBack(q [][]byte, w, n int64) {
	if w == n {
		recycle(q, true)
		if cap(q) <= maxKeptList && o.spare == nil {
			o.spare = q[:0]
		}
		return
	}
	left := n - w
	i := 0
	for ; int64(len(q[i])) <= w; i++ {
		w -= int64(len(q[i]))
		putChunk(q[i])
		q[i] = nil
	}
	// A chunk written in part keeps only its unwritten end (which is no
	// longer pooled: its capacity is no longer a chunk size).
	q[i] = q[i][w:]
	rest := make([][]byte, 0, len(q)-i+len(o.q))
	rest = append(rest, q[i:]...)
	rest = append(rest, o.q...)
	clear(q)
	o.q = rest
	o.pb += left
}
