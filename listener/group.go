package listener

import (
	"context"
	"errors"
)

// ErrServing is returned by [Listener.Serve] when another call to Serve on
// the same Listener is still running.
var ErrServing = errors.New("listener: Serve is already running")

// errClosed is internal: startServing refuses because Close has begun.
var errClosed = errors.New("listener: closed")

// The Listener counts its own goroutines rather than using a
// sync.WaitGroup: a WaitGroup forbids Add from zero while Wait is running,
// which a handler's [Listener.Go] or a late Serve could otherwise do. Here
// every change goes through setBusy under mu, and Wait only ever reads a
// channel that is closed when the count reaches zero.

// setBusy applies change to the counters (mu held) and keeps idle in step:
// a fresh open channel when the listener becomes busy, closed when it
// becomes idle.
func (l *Listener) setBusy(change func()) {
	was := l.serving || l.tracked > 0
	change()
	now := l.serving || l.tracked > 0
	switch {
	case !was && now:
		l.idle = make(chan struct{})
	case was && !now:
		close(l.idle)
	}
}

// startServing marks Serve as running, or says why it may not run.
func (l *Listener) startServing() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return errClosed
	case l.serving:
		return ErrServing
	}
	l.setBusy(func() { l.serving = true })
	return nil
}

// stopServing marks Serve as no longer running.
func (l *Listener) stopServing() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setBusy(func() { l.serving = false })
}

// track counts one more goroutine (mu held).
func (l *Listener) track() {
	l.setBusy(func() { l.tracked++ })
	l.active.Add(1)
}

// untrack counts one goroutine less.
func (l *Listener) untrack() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.active.Add(-1)
	l.setBusy(func() { l.tracked-- })
}

// spawn runs f in a tracked goroutine. If onlyOpen is set and Close has
// begun, it starts nothing and returns false.
func (l *Listener) spawn(onlyOpen bool, f func()) bool {
	l.mu.Lock()
	if onlyOpen && l.closed {
		l.mu.Unlock()
		return false
	}
	l.track()
	l.mu.Unlock()
	go func() {
		defer l.untrack()
		f()
	}()
	return true
}

// Go runs f in a new goroutine counted with the handlers, so that
// [Listener.Wait] waits for it too. It is meant for a connection's extra
// goroutines, such as its writer. Go always starts f, even after Close;
// it may be called while Wait is blocked. A goroutine started after Wait
// has returned is covered only by a later Wait.
func (l *Listener) Go(f func()) { l.spawn(false, f) }

// Active returns how many goroutines started for handlers or by
// [Listener.Go] are still running. It takes no lock.
func (l *Listener) Active() int { return int(l.active.Load()) }

// Wait blocks until [Listener.Serve] is not running and every goroutine
// started for a handler or by [Listener.Go] has returned. It returns at once
// if there is nothing to wait for, for example when Serve was never called.
//
// Wait does not stop anything: call [Listener.Close] first, and close or
// unblock the connections so their handlers return. Because a Serve started
// later in another goroutine may not have begun yet, Wait is only a reliable
// join after Close, when such a Serve returns without doing anything.
func (l *Listener) Wait() {
	l.mu.Lock()
	idle := l.idle
	l.mu.Unlock()
	<-idle
}

// WaitContext is [Listener.Wait] bounded by ctx: it returns nil once
// everything has returned, or ctx.Err() if ctx ends first, in which case
// the goroutines are still running and a later Wait can join them.
func (l *Listener) WaitContext(ctx context.Context) error {
	l.mu.Lock()
	idle := l.idle
	l.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
