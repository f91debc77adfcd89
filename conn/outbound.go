package conn

import (
	"errors"
	"net"
	"os"
	"strconv"
	"time"
)

// outbound is a connection's queued output. It is guarded by Conn.mu; the
// writer swaps buf with spare so publishers append while it writes.
type outbound struct {
	buf      []byte
	spare    []byte
	inflight int // bytes the writer has taken and not yet finished writing
}

// maxKeptBuf is the largest buffer kept for reuse after a write; larger
// ones are dropped so an idle connection does not hold a burst's memory.
const maxKeptBuf = 32 * 1024

func (o *outbound) pending() int64 { return int64(len(o.buf) + o.inflight) }

func (o *outbound) release() {
	o.buf, o.spare = nil, nil
}

// signal wakes the writer without blocking.
func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// queue appends protocol bytes (INFO, PONG, +OK, -ERR, PING) to the
// outbound buffer. It drops them once the connection has left Open.
func (c *Conn) queue(b []byte) {
	c.mu.Lock()
	if c.State() == Open {
		c.out.buf = append(c.out.buf, b...)
	}
	c.mu.Unlock()
}

// writeLoop is the connection's writer: it writes what is queued whenever it
// is woken and, once the connection is Closing, does the final flush (unless
// a skip-flush reason was recorded), closes the socket and returns.
func (c *Conn) writeLoop() {
	defer c.goroutineDone()
	for range c.wake {
		for {
			c.mu.Lock()
			data := c.out.buf
			c.out.buf = c.out.spare[:0]
			c.out.spare = nil
			c.out.inflight = len(data)
			closing := c.State() != Open
			c.mu.Unlock()

			var err error
			if len(data) > 0 && !(closing && c.SkipFlush()) {
				err = c.write(data)
			}

			c.mu.Lock()
			c.out.inflight = 0
			if cap(data) <= maxKeptBuf && c.State() == Open {
				c.out.spare = data[:0]
			}
			more := len(c.out.buf) > 0
			c.mu.Unlock()

			if err != nil {
				c.Close(writeErrorReason(err))
				c.nc.Close()
				return
			}
			if closing {
				c.nc.Close()
				return
			}
			if !more {
				break
			}
		}
	}
}

// write writes data within the write deadline.
func (c *Conn) write(data []byte) error {
	if d := c.cfg.WriteDeadline; d > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(d))
	}
	_, err := c.rw.Write(data)
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
