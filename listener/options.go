package listener

import (
	"context"
	"log"
	"time"
)

// Option configures a [Listener] built by [New] or [Listen].
type Option func(*Listener)

// SleepFunc pauses for d, or until ctx is done, whichever comes first. It
// returns ctx.Err() if ctx ended the pause and nil otherwise.
type SleepFunc func(ctx context.Context, d time.Duration) error

// ErrorLogFunc is told about every temporary accept error, with the delay
// Serve is about to sleep before accepting again.
type ErrorLogFunc func(err error, delay time.Duration)

// WithSleep replaces the timer used for backoff between temporary accept
// errors. The context passed to it is cancelled by [Listener.Close]; a sleep
// that ignores it delays Close's effect on Serve until it returns. A nil f is
// ignored.
func WithSleep(f SleepFunc) Option {
	return func(l *Listener) {
		if f != nil {
			l.sleep = f
		}
	}
}

// WithErrorLog sets where temporary accept errors are reported. The default
// writes one line through the standard [log] package. A nil f is ignored.
func WithErrorLog(f ErrorLogFunc) Option {
	return func(l *Listener) {
		if f != nil {
			l.logErr = f
		}
	}
}

// sleepCtx is the default [SleepFunc]: a real timer, cut short by ctx.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// defaultErrorLog returns the default [ErrorLogFunc] for a listener on addr.
func defaultErrorLog(addr string) ErrorLogFunc {
	return func(err error, delay time.Duration) {
		log.Printf("listener %s: temporary accept error: %v; retrying in %v", addr, err, delay)
	}
}
