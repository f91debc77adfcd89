package listener

import (
	"errors"
	"net"
)

// Serve accepts connections until the listener is closed and calls handle
// for each one in a new goroutine, counted for [Listener.Wait] and
// [Listener.Active]. handle owns the connection and must close it.
//
// A temporary accept error is reported through the error-log seam and
// retried after a pause: [MinAcceptDelay], doubling up to [MaxAcceptDelay],
// back to the minimum after a successful accept. [Listener.Close] cuts the
// pause short.
//
// Serve returns nil once the listener is closed, including when it was
// closed before Serve was called. Any other accept error ends Serve and is
// returned as the accept call gave it. Whatever the reason it returns,
// Serve closes the listener first, so a failed Serve needs no Close (which
// is still harmless). A second Serve while one is running returns [ErrServing].
// Serve does not wait for the handlers; [Listener.Wait] does.
func (l *Listener) Serve(handle func(net.Conn)) error {
	if handle == nil {
		return errors.New("listener: Serve needs a handler")
	}
	if err := l.startServing(); err != nil {
		if errors.Is(err, errClosed) {
			return nil
		}
		return err
	}
	defer l.stopServing()
	// Closing here keeps "Serve has returned" and "socket closed" the same
	// fact; the close error is reported by the caller's own Close.
	defer func() { _ = l.Close() }()

	var bo backoff
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if l.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if !isTemporary(err) {
				return err
			}
			d := bo.delay()
			l.logErr(err, d)
			// The sleep's own error only says the context ended; the
			// check below covers that.
			_ = l.sleep(l.stop, d)
			if l.stop.Err() != nil {
				return nil
			}
			continue
		}
		bo.reset()
		if !l.spawn(true, func() { handle(conn) }) {
			// Close won the race with this accept; after Release the
			// connection is still this process's to answer.
			if l.isReleased() {
				l.spawn(false, func() { handle(conn) })
			} else {
				conn.Close()
			}
			return nil
		}
	}
}

// isTemporary reports whether an accept error is worth retrying: anything in
// the chain that says it is temporary (EMFILE, ENFILE, ECONNABORTED, ...) or
// a timeout. ECONNABORTED never gets here: the runtime retries it inside
// Accept.
func isTemporary(err error) bool {
	var tmp interface{ Temporary() bool }
	if errors.As(err, &tmp) && tmp.Temporary() {
		return true
	}
	var to interface{ Timeout() bool }
	return errors.As(err, &to) && to.Timeout()
}
