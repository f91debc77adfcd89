package listener

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// TestServeBackoff drives Serve through scripted accept results and checks
// the delays it asks the sleep seam for, and how Serve ends.
func TestServeBackoff(t *testing.T) {
	ms := time.Millisecond
	errBoom := errors.New("boom")
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	enfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.ENFILE)}
	closedBelow := &net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed}

	tests := []struct {
		name      string
		script    func(t *testing.T) []step
		wantSleep []time.Duration
		wantConns int
		wantErr   error // nil: Serve runs until the test closes it
	}{
		{
			name: "doubles up to the cap",
			script: func(*testing.T) []step {
				return slices.Repeat([]step{tempStep()}, 10)
			},
			wantSleep: []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second, time.Second},
		},
		{
			name: "a successful accept resets the delay",
			script: func(t *testing.T) []step {
				return []step{
					tempStep(), tempStep(), tempStep(), tempStep(),
					connStep(pipeConn(t)),
					tempStep(), tempStep(),
					connStep(pipeConn(t)),
					connStep(pipeConn(t)),
					tempStep(),
				}
			},
			wantSleep: []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 10 * ms, 20 * ms, 10 * ms},
			wantConns: 3,
		},
		{
			name: "a timeout counts as temporary",
			script: func(*testing.T) []step {
				return []step{errStep(errTimeout), errStep(errTimeout)}
			},
			wantSleep: []time.Duration{10 * ms, 20 * ms},
		},
		{
			name: "EMFILE and ENFILE from accept are temporary",
			script: func(*testing.T) []step {
				return []step{errStep(emfile), errStep(enfile)}
			},
			wantSleep: []time.Duration{10 * ms, 20 * ms},
		},
		{
			name: "a non-temporary error ends Serve with it",
			script: func(*testing.T) []step {
				return []step{tempStep(), errStep(errBoom), tempStep()}
			},
			wantSleep: []time.Duration{10 * ms},
			wantErr:   errBoom,
		},
		{
			name: "a net.Error that is neither temporary nor a timeout ends Serve",
			script: func(*testing.T) []step {
				return []step{errStep(&netErr{msg: "permanent"})}
			},
			wantErr: &netErr{msg: "permanent"},
		},
		{
			name: "a listener closed underneath ends Serve with nil",
			script: func(*testing.T) []step {
				return []step{tempStep(), errStep(closedBelow)}
			},
			wantSleep: []time.Duration{10 * ms},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := tt.script(t)
			fake := newFake(script...)
			var rec recorder
			l := New(fake, rec.options()...)
			var handled atomic.Int32
			done := serveAsync(l, func(c net.Conn) {
				handled.Add(1)
				c.Close()
			})

			closedBelowRow := slices.ContainsFunc(script, func(s step) bool { return s.err == closedBelow })
			var err error
			switch {
			case tt.wantErr != nil || closedBelowRow:
				err = within(t, done, "Serve to end by itself")
			default:
				within(t, fake.exhausted, "the script to be used up")
				if cerr := l.Close(); cerr != nil {
					t.Fatalf("Close: %v", cerr)
				}
				err = within(t, done, "Serve to return after Close")
			}
			l.Wait()

			if tt.wantErr == nil && err != nil {
				t.Fatalf("Serve = %v, want nil", err)
			}
			if tt.wantErr != nil && err.Error() != tt.wantErr.Error() {
				t.Fatalf("Serve = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(rec.slept, tt.wantSleep) {
				t.Errorf("slept %v, want %v", rec.slept, tt.wantSleep)
			}
			if !slices.Equal(rec.logged, rec.slept) {
				t.Errorf("logged delays %v, want the slept ones %v", rec.logged, rec.slept)
			}
			for i, e := range rec.errs {
				if !isTemporary(e) {
					t.Errorf("logged error %d (%v) is not temporary", i, e)
				}
			}
			if got := int(handled.Load()); got != tt.wantConns {
				t.Errorf("handled %d connections, want %d", got, tt.wantConns)
			}
			if fake.closeCount() != 1 {
				t.Errorf("socket closed %d times, want 1", fake.closeCount())
			}
		})
	}
}

// TestCloseDuringBackoff: Close cuts a backoff sleep short, and Serve
// returns nil.
func TestCloseDuringBackoff(t *testing.T) {
	sleeping := make(chan time.Duration, 1)
	fake := newFake(tempStep())
	l := New(fake,
		WithErrorLog(func(error, time.Duration) {}),
		WithSleep(func(ctx context.Context, d time.Duration) error {
			sleeping <- d
			<-ctx.Done() // a sleep that only Close can end
			return ctx.Err()
		}))
	done := serveAsync(l, func(c net.Conn) { c.Close() })

	if d := within(t, sleeping, "Serve to back off"); d != MinAcceptDelay {
		t.Fatalf("first delay = %v, want %v", d, MinAcceptDelay)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := within(t, done, "Serve to return after Close"); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	l.Wait()
}

// TestServeRealTimer runs Serve with the default sleep inside a synctest
// bubble, so the timer is real code on a fake clock: three temporary errors
// cost exactly 10+20+40ms, and Close during the next 1s-capped wait ends
// Serve without any time passing.
func TestServeRealTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		script := slices.Repeat([]step{tempStep()}, 3)
		var accepted time.Time
		a, b := net.Pipe()
		defer b.Close()
		script = append(script, step{conn: a, before: func() { accepted = time.Now() }})
		script = append(script, slices.Repeat([]step{tempStep()}, 8)...)
		fake := newFake(script...)

		var slept []time.Duration
		l := New(fake, WithErrorLog(func(_ error, d time.Duration) { slept = append(slept, d) }))
		start := time.Now()
		done := serveAsync(l, func(c net.Conn) { c.Close() })

		<-fake.exhausted // fake time runs on while Serve sleeps
		if got := accepted.Sub(start); got != 70*time.Millisecond {
			t.Errorf("conn accepted after %v, want 70ms", got)
		}
		synctest.Wait() // Serve is now in its ninth sleep (1s)
		before := time.Now()
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("Serve = %v, want nil", err)
		}
		if waited := time.Since(before); waited != 0 {
			t.Errorf("Serve returned %v after Close, want at once", waited)
		}
		l.Wait()
		want := []time.Duration{10, 20, 40, 10, 20, 40, 80, 160, 320, 640, 1000}
		for i := range want {
			want[i] *= time.Millisecond
		}
		if !slices.Equal(slept, want) {
			t.Errorf("backoff %v, want %v", slept, want)
		}
	})
}

func TestSleepCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := sleepCtx(t.Context(), 40*time.Millisecond); err != nil {
			t.Fatalf("sleepCtx = %v", err)
		}
		if got := time.Since(start); got != 40*time.Millisecond {
			t.Errorf("slept %v, want 40ms", got)
		}

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		start = time.Now()
		if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
			t.Errorf("sleepCtx on a cancelled context = %v, want context.Canceled", err)
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("cancelled sleep took %v, want 0", got)
		}
	})
}

// TestLifecycleEdges covers calls in unusual orders; none may hang, panic or
// call the handler.
func TestLifecycleEdges(t *testing.T) {
	never := func(net.Conn) { panic("handler called") }
	tests := []struct {
		name string
		run  func(t *testing.T, l *Listener, fake *fakeListener)
	}{
		{"Wait without Serve or Close", func(t *testing.T, l *Listener, _ *fakeListener) {
			l.Wait()
		}},
		{"Wait after Close without Serve", func(t *testing.T, l *Listener, _ *fakeListener) {
			l.Close()
			l.Wait()
		}},
		{"Serve after Close returns nil at once", func(t *testing.T, l *Listener, _ *fakeListener) {
			l.Close()
			l.Wait()
			if err := l.Serve(never); err != nil {
				t.Errorf("Serve = %v, want nil", err)
			}
			l.Wait()
		}},
		{"Close twice returns the first result", func(t *testing.T, l *Listener, fake *fakeListener) {
			if err := l.Close(); err != nil {
				t.Errorf("first Close = %v", err)
			}
			if err := l.Close(); err != nil {
				t.Errorf("second Close = %v", err)
			}
			if n := fake.closeCount(); n != 1 {
				t.Errorf("socket closed %d times, want 1", n)
			}
		}},
		{"concurrent Close", func(t *testing.T, l *Listener, fake *fakeListener) {
			done := serveAsync(l, never)
			errs := make(chan error, 8)
			for range 8 {
				go func() { errs <- l.Close() }()
			}
			for range 8 {
				if err := within(t, errs, "Close"); err != nil {
					t.Errorf("Close = %v", err)
				}
			}
			if err := within(t, done, "Serve"); err != nil {
				t.Errorf("Serve = %v", err)
			}
			l.Wait()
			if n := fake.closeCount(); n != 1 {
				t.Errorf("socket closed %d times, want 1", n)
			}
		}},
		{"second Serve while one runs is refused", func(t *testing.T, l *Listener, fake *fakeListener) {
			done := serveAsync(l, never)
			within(t, fake.exhausted, "first Serve to accept")
			if err := l.Serve(never); !errors.Is(err, ErrServing) {
				t.Errorf("second Serve = %v, want ErrServing", err)
			}
			l.Close()
			if err := within(t, done, "Serve"); err != nil {
				t.Errorf("Serve = %v", err)
			}
			l.Wait()
		}},
		{"nil handler is refused", func(t *testing.T, l *Listener, fake *fakeListener) {
			if err := l.Serve(nil); err == nil {
				t.Error("Serve(nil) = nil, want an error")
			}
			if n := fake.closeCount(); n != 0 {
				t.Errorf("refused Serve closed the socket")
			}
			l.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake()
			l := New(fake)
			tt.run(t, l, fake)
		})
	}
}

// TestAcceptRacingClose: a connection that Accept returns after Close has
// begun is closed, not handed to the handler.
func TestAcceptRacingClose(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	var l *Listener
	fake := newFake(step{conn: a, before: func() { l.Close() }})
	l = New(fake)
	var handled atomic.Bool
	if err := l.Serve(func(c net.Conn) { handled.Store(true); c.Close() }); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	l.Wait()
	if handled.Load() {
		t.Error("handler called after Close")
	}
	if _, err := b.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("peer read = %v, want EOF (conn closed by Serve)", err)
	}
}

// TestAcceptRacingRelease: a connection that Accept returns after Release
// has begun is still handed to the handler (another process serves the
// socket now, but this one took the connection off its queue).
func TestAcceptRacingRelease(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	var l *Listener
	fake := newFake(step{conn: a, before: func() { l.Release() }})
	l = New(fake)
	handled := make(chan struct{})
	if err := l.Serve(func(c net.Conn) { close(handled); c.Close() }); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	l.Wait()
	select {
	case <-handled:
	default:
		t.Error("handler not called for a connection accepted as Release began")
	}
	if fake.closeCount() != 1 {
		t.Errorf("socket closed %d times, want 1", fake.closeCount())
	}
}

func TestIsTemporary(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{errTemp, true},
		{errTimeout, true},
		{&netErr{msg: "neither"}, false},
		{errors.New("plain"), false},
		{&net.OpError{Op: "accept", Err: os.NewSyscallError("accept", syscall.EMFILE)}, true},
		{&net.OpError{Op: "accept", Err: os.NewSyscallError("accept", syscall.ENFILE)}, true},
		{&net.OpError{Op: "accept", Err: os.NewSyscallError("accept", syscall.EBADF)}, false},
		{&net.OpError{Op: "accept", Err: net.ErrClosed}, false},
	}
	for _, tt := range tests {
		if got := isTemporary(tt.err); got != tt.want {
			t.Errorf("isTemporary(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
