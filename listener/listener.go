package listener

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
)

// Listener accepts connections on one socket and tracks the goroutines it
// starts for them. Build one with [Listen] or [New]; run it with
// [Listener.Serve]; stop it with [Listener.Close]; then [Listener.Wait].
// All methods are safe for concurrent use.
type Listener struct {
	ln     net.Listener
	addr   *net.TCPAddr // nil when ln is not a TCP listener
	sleep  SleepFunc
	logErr ErrorLogFunc

	// stop is cancelled by Close; it cuts a backoff sleep short.
	stop   context.Context
	cancel context.CancelFunc

	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	closed bool // Close has begun; no handler starts after this
	// released: Close came from Release, so a connection already taken
	// from the socket is still handled.
	released bool
	serving  bool          // Serve's accept loop is running
	tracked  int           // goroutines started by Serve or Go, still running
	idle     chan struct{} // closed exactly when !serving && tracked == 0

	active atomic.Int64 // mirror of tracked, read without mu
}

// Listen binds a TCP socket on host:port with [Bind] and wraps it with
// [New].
func Listen(host string, port int, opts ...Option) (*Listener, error) {
	ln, err := Bind(nil, host, port)
	if err != nil {
		return nil, err
	}
	return New(ln, opts...), nil
}

// ListenFunc binds a socket, as [net.Listen] does. It is the seam through
// which a caller (a test) hands in another kind of listener, an in-memory
// one for example.
type ListenFunc func(network, address string) (net.Listener, error)

// Bind binds a TCP socket on host:port through listen (nil: [net.Listen]).
// A port of -1 asks the operating system for a free port. Bind applies no
// defaults: port 0 is handed to the operating system as is (which also
// picks a free port), so a caller that means the NATS default must say
// 4222. An empty host binds every interface.
//
// The error, if any, is one line naming the address once, for example
// "listen tcp 127.0.0.1:4222: bind: address already in use" (for port -1
// the address reads host:0); the cause stays reachable with [errors.Is] and
// [errors.As].
func Bind(listen ListenFunc, host string, port int) (net.Listener, error) {
	bindPort := port
	if port == -1 {
		bindPort = 0
	}
	addr := net.JoinHostPort(host, strconv.Itoa(bindPort))
	if port < -1 || port > 65535 {
		return nil, fmt.Errorf("listen tcp %s: invalid port %d (want 0-65535, or -1 for a random port)",
			net.JoinHostPort(host, strconv.Itoa(port)), port)
	}
	if listen == nil {
		listen = net.Listen
	}
	ln, err := listen("tcp", addr)
	if err != nil {
		return nil, bindError(addr, err)
	}
	return ln, nil
}

// bindError makes sure a failed bind names addr exactly once. The standard
// library already does so when it got as far as the bind; when the host did
// not resolve, its message names the host a second time ("lookup HOST: no
// such host"), so the lookup's own reason is kept and the name dropped.
func bindError(addr string, err error) error {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return &addrError{addr: addr, msg: "lookup failed: " + dns.Err, err: err}
	}
	var op *net.OpError
	if errors.As(err, &op) {
		if op.Addr != nil {
			return err
		}
		return &addrError{addr: addr, msg: op.Err.Error(), err: err}
	}
	return &addrError{addr: addr, msg: err.Error(), err: err}
}

// addrError is a failed bind of addr: its text is "listen tcp ADDR: MSG",
// and it unwraps to the error the bind returned.
type addrError struct {
	addr, msg string
	err       error
}

func (e *addrError) Error() string { return "listen tcp " + e.addr + ": " + e.msg }
func (e *addrError) Unwrap() error { return e.err }

// New wraps an existing [net.Listener]. The Listener takes ownership of l:
// [Listener.Close] and the end of [Listener.Serve] close it.
func New(l net.Listener, opts ...Option) *Listener {
	idle := make(chan struct{})
	close(idle)
	stop, cancel := context.WithCancel(context.Background())
	x := &Listener{
		ln:     l,
		sleep:  sleepCtx,
		stop:   stop,
		cancel: cancel,
		idle:   idle,
	}
	name := "<unknown>"
	if a := l.Addr(); a != nil {
		name = a.String()
		x.addr, _ = a.(*net.TCPAddr)
	}
	x.logErr = defaultErrorLog(name)
	for _, o := range opts {
		o(x)
	}
	return x
}

// Addr returns the address the socket is bound to, with the port the
// operating system chose when [Listen] was given -1. It returns nil when the
// wrapped listener is not a TCP listener. The caller must not modify it.
func (l *Listener) Addr() *net.TCPAddr { return l.addr }

// Port returns the bound port, or 0 when [Listener.Addr] is nil.
func (l *Listener) Port() int {
	if l.addr == nil {
		return 0
	}
	return l.addr.Port
}

// Close stops accepting: it marks the listener closed, cuts short any
// backoff sleep in [Listener.Serve], and closes the socket. Once Close has
// returned, the handler is not called again; connections that are already
// being handled are left alone (closing them is the caller's business).
//
// Close may be called any number of times, from any goroutine, before,
// during or after Serve. Every call returns the error from closing the
// socket the first time.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		l.cancel()
		l.closeErr = l.ln.Close()
	})
	return l.closeErr
}

// Release stops accepting, as [Listener.Close] does, on a socket that
// another process now serves as well (natsd's binary upgrade handed it
// over). Closing this process's descriptor leaves the socket open in the
// other process, so the connections the kernel queued on it stay queued
// for that process. Unlike Close, a connection that the accept loop had
// already taken from the queue when Release began is still handed to the
// handler instead of being closed unserved (the client was accepted, and
// no other process can answer it), so the handler may run once more after
// Release has returned. Release and Close may be mixed; the first one to
// run decides.
func (l *Listener) Release() error {
	l.mu.Lock()
	if !l.closed {
		l.released = true
	}
	l.mu.Unlock()
	return l.Close()
}

// isReleased reports whether the listener was stopped by Release.
func (l *Listener) isReleased() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.released
}

// isClosed reports whether Close has begun.
func (l *Listener) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}
