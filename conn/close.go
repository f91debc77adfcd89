package conn

import (
	"errors"

	"github.com/natsd/natsd/conn/parser"
	"github.com/sirupsen/logrus"
)

// errClosed is returned by a protocol handler that has already sent its
// -ERR and closed the connection with the right reason.
var errClosed = errors.New("connection closed")

// Close records reason and starts closing the connection. The first reason
// recorded is the one reported; a later skip-flush reason still turns the
// final flush off (and closes the socket at once if a flush is under way).
// Close is safe to call from any goroutine, any number of times.
func (c *Conn) Close(reason ClosedState) {
	c.recordReason(reason)
	if c.fire(EventClose) {
		return
	}
	if reason.SkipsFlush() && c.State() == Closing {
		c.nc.Close()
	}
}

// CloseWithError sends "-ERR 'text'" and closes the connection with reason,
// flushing the error first (unless the reason skips the flush).
func (c *Conn) CloseWithError(text string, reason ClosedState) {
	c.sendErr(text)
	c.Close(reason)
}

// Abort closes the socket without flushing, for a connection whose graceful
// close did not finish in time (the server's shutdown deadline). The
// reported reason is unchanged.
func (c *Conn) Abort() {
	c.recordReason(ServerShutdown)
	c.fire(EventClose)
	c.nc.Close()
}

func (c *Conn) recordReason(r ClosedState) {
	for {
		old := c.reason.Load()
		next := old
		if old&0xff == 0 {
			next |= uint32(r)
		}
		if r.SkipsFlush() {
			next |= skipFlushBit
		}
		if next == old || c.reason.CompareAndSwap(old, next) {
			return
		}
	}
}

// slowConsumer counts the connection as a slow consumer and logs it, as
// nats-server does ("Slow Consumer Detected: ..."), at the moment a
// slow-consumer condition is detected: output over max_pending, or a write
// that hit write_deadline, the final flush of a connection closed for
// another reason included. A connection is counted once, however many
// times it is detected.
func (c *Conn) slowConsumer(detail string) {
	for {
		old := c.reason.Load()
		if old&slowBit != 0 {
			return
		}
		if c.reason.CompareAndSwap(old, old|slowBit) {
			break
		}
	}
	c.sh.Stats.SlowConsumers.Add(1)
	if log := c.sh.Log; log != nil {
		log.Infof("%s - cid:%d - Slow Consumer Detected: %s", c.hostPort(), c.cid, detail)
	}
}

// leaveOpen is the callback of leaving Open: stop the ping timer.
func (c *Conn) leaveOpen() {
	c.mu.Lock()
	if c.pingTmr != nil {
		c.pingTmr.Stop()
		c.pingTmr = nil
	}
	c.stopAuthTimerLocked()
	c.mu.Unlock()
}

// enterClosing is the callback of entering Closing: decide flush-or-skip.
// A skip-flush reason closes the socket now, which also unblocks a writer
// stuck on a peer that does not read; otherwise the writer flushes what is
// queued within the write deadline and then closes the socket. A
// connection without a writer goroutine gets one for that flush, or, with
// nothing to flush, has its read ended at once (see
// [Conn.finalFlushLocked]).
func (c *Conn) enterClosing() {
	r := c.Reason()
	if r == StaleConnection {
		c.sh.Stats.StaleConnections.Add(1)
	}
	if c.SkipFlush() {
		c.nc.Close()
	}
	c.mu.Lock()
	if c.wstate == writerRunning {
		c.wake.Signal()
	}
	f := c.finalFlushLocked()
	c.mu.Unlock()
	if f != nil {
		f()
	}
}

// enterClosed is the callback of entering Closed: release the
// subscriptions, stamp the close time and hand the connection to the server.
func (c *Conn) enterClosed() {
	c.subsMu.Lock()
	subs := c.subs
	c.subs = nil
	final := make([]string, 0, len(subs))
	for _, s := range subs {
		final = append(final, s.subject)
	}
	c.finalSubs = final
	c.subsMu.Unlock()
	c.mu.Lock()
	released := c.out.drop()
	c.mu.Unlock()
	reclaim(released)
	for _, s := range subs {
		s.acc.remove(s)
	}
	if log := c.sh.Log; log != nil && log.IsLevelEnabled(logrus.DebugLevel) {
		log.Debugf("%s - cid:%d - Client connection closed: %s", c.hostPort(), c.cid, c.Reason())
	}
	if c.sh.OnClosed != nil {
		c.sh.OnClosed(c)
	}
}

// protocolError turns an error from the parser into nats-server's -ERR (if
// any) and close reason.
func (c *Conn) protocolError(err error) {
	var pe *parser.ProtoError
	switch {
	case errors.Is(err, errClosed):
		// The handler already answered and closed.
	case errors.As(err, &pe):
		switch pe.Kind {
		case parser.UnknownOp:
			c.sendErr("Unknown Protocol Operation")
			c.Close(ProtocolViolation)
		case parser.MaxControlLine:
			c.sendErr("maximum control line exceeded")
			c.Close(MaxControlLineExceeded)
		case parser.MaxPayload:
			c.sendErr("Maximum Payload Violation")
			c.Close(MaxPayloadExceeded)
		case parser.ClientErr:
			// The client reported an error: nats-server logs it and closes
			// with ParseError, sending nothing.
			c.Close(ParseError)
		default:
			if pe.SendErr != "" {
				c.sendErr(pe.SendErr)
			}
			c.Close(ProtocolViolation)
		}
	default:
		c.Close(ProtocolViolation)
	}
	if log := c.sh.Log; log != nil && log.IsLevelEnabled(logrus.DebugLevel) && !errors.Is(err, errClosed) {
		log.Debugf("%s - cid:%d - Client parser error: %v", c.hostPort(), c.cid, err)
	}
}

// sendErr queues "-ERR 'msg'" for the client.
func (c *Conn) sendErr(msg string) {
	if c.tracing() {
		c.traceOut("-ERR '" + msg + "'")
	}
	b := make([]byte, 0, len(msg)+9)
	b = append(b, "-ERR '"...)
	b = append(b, msg...)
	b = append(b, "'\r\n"...)
	c.queue(b)
	c.flush()
}

func (c *Conn) hostPort() string {
	return c.host + ":" + itoa(c.port)
}
