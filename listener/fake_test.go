package listener

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// step is one scripted result of fakeListener.Accept. before, if set, runs
// inside Accept just before the result is returned.
type step struct {
	conn   net.Conn
	err    error
	before func()
}

// fakeListener returns its script one step per Accept. Once the script is
// used up it closes exhausted and blocks until Close, then returns
// net.ErrClosed like a real listener.
type fakeListener struct {
	mu        sync.Mutex
	script    []step
	exhausted chan struct{}
	closed    chan struct{}
	closes    int
}

func newFake(script ...step) *fakeListener {
	return &fakeListener{
		script:    script,
		exhausted: make(chan struct{}),
		closed:    make(chan struct{}),
	}
}

func (f *fakeListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if len(f.script) == 0 {
		select {
		case <-f.exhausted:
		default:
			close(f.exhausted)
		}
		f.mu.Unlock()
		<-f.closed
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed}
	}
	s := f.script[0]
	f.script = f.script[1:]
	f.mu.Unlock()
	if s.before != nil {
		s.before()
	}
	return s.conn, s.err
}

func (f *fakeListener) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closes++
	if f.closes == 1 {
		close(f.closed)
		return nil
	}
	return errors.New("fake: closed twice")
}

func (f *fakeListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4222}
}

func (f *fakeListener) closeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closes
}

// netErr is a net.Error with chosen Temporary and Timeout answers.
type netErr struct {
	msg                string
	temporary, timeout bool
}

func (e *netErr) Error() string   { return e.msg }
func (e *netErr) Temporary() bool { return e.temporary }
func (e *netErr) Timeout() bool   { return e.timeout }

var (
	errTemp    = &netErr{msg: "temporary", temporary: true}
	errTimeout = &netErr{msg: "timeout", timeout: true}
)

func tempStep() step           { return step{err: errTemp} }
func errStep(err error) step   { return step{err: err} }
func connStep(c net.Conn) step { return step{conn: c} }

// pipeConn returns one end of an in-memory connection; the other end is
// closed at the end of the test.
func pipeConn(t *testing.T) net.Conn {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { b.Close() })
	return a
}

// recorder is a sleep seam that returns at once and an error-log seam, both
// writing down what they were given.
type recorder struct {
	mu     sync.Mutex
	slept  []time.Duration
	logged []time.Duration
	errs   []error
}

func (r *recorder) options() []Option {
	return []Option{
		WithSleep(func(_ context.Context, d time.Duration) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.slept = append(r.slept, d)
			return nil
		}),
		WithErrorLog(func(err error, d time.Duration) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.logged = append(r.logged, d)
			r.errs = append(r.errs, err)
		}),
	}
}

// within fails the test if ch yields nothing before the deadline. The
// deadline only turns a hang into a failure; nothing waits for it to pass.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// serveAsync runs l.Serve(handle) and delivers its result on the channel.
func serveAsync(l *Listener, handle func(net.Conn)) <-chan error {
	done := make(chan error, 1)
	go func() { done <- l.Serve(handle) }()
	return done
}
