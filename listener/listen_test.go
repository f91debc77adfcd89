package listener

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// eventually polls cond until it holds; it fails the test after a generous
// deadline, which only turns a hang into a failure.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// stillWaiting reports whether Wait would still block right now.
func stillWaiting(l *Listener) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return l.WaitContext(ctx) != nil
}

func TestListenRandomPort(t *testing.T) {
	l, err := Listen("127.0.0.1", -1)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer l.Close()
	if l.Port() <= 0 {
		t.Fatalf("Port() = %d, want a real port", l.Port())
	}
	if a := l.Addr(); a == nil || !a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.Port != l.Port() {
		t.Fatalf("Addr() = %v, want 127.0.0.1:%d", a, l.Port())
	}
}

func TestListenErrors(t *testing.T) {
	busy, err := Listen("127.0.0.1", -1)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer busy.Close()

	tests := []struct {
		name   string
		host   string
		port   int
		want   string // the whole one-line message
		wantIs error  // a cause that must stay reachable, if any
		wantAs any    // a pointer to a cause type that must stay reachable, if any
	}{
		{
			name:   "port in use",
			host:   "127.0.0.1",
			port:   busy.Port(),
			want:   fmt.Sprintf("listen tcp 127.0.0.1:%d: bind: address already in use", busy.Port()),
			wantIs: syscall.EADDRINUSE,
		},
		{
			name:   "address not on this host",
			host:   "192.0.2.1", // TEST-NET-1, never assigned
			port:   4222,
			want:   "listen tcp 192.0.2.1:4222: bind: cannot assign requested address",
			wantIs: syscall.EADDRNOTAVAIL,
		},
		{
			name:   "address that is not one",
			host:   "999.1.1.1",
			port:   4222,
			want:   "listen tcp 999.1.1.1:4222: lookup failed: no such host",
			wantAs: new(*net.DNSError),
		},
		{
			name:   "host that is not a name",
			host:   "bad host!",
			port:   4222,
			want:   "listen tcp bad host!:4222: lookup failed: no such host",
			wantAs: new(*net.DNSError),
		},
		{
			name:   "random port on a host that is not a name",
			host:   "bad host!",
			port:   -1,
			want:   "listen tcp bad host!:0: lookup failed: no such host",
			wantAs: new(*net.DNSError),
		},
		{
			name: "port too large",
			host: "127.0.0.1",
			port: 70000,
			want: "listen tcp 127.0.0.1:70000: invalid port 70000 (want 0-65535, or -1 for a random port)",
		},
		{
			name: "negative port other than -1",
			host: "::1",
			port: -2,
			want: "listen tcp [::1]:-2: invalid port -2 (want 0-65535, or -1 for a random port)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Listen(tt.host, tt.port)
			if err == nil {
				l.Close()
				t.Fatalf("Listen(%q, %d) succeeded, want %q", tt.host, tt.port, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\n   want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if tt.wantAs != nil && !errors.As(err, tt.wantAs) {
				t.Errorf("errors.As(%v, %T) = false", err, tt.wantAs)
			}
		})
	}
}

// TestServeTCP: real connections reach the handler, and Wait waits for
// every handler and every goroutine started with Go, including ones started
// while Wait is already blocked.
func TestServeTCP(t *testing.T) {
	const clients = 3
	l, err := Listen("127.0.0.1", -1)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	releaseHandlers := make(chan struct{})
	releaseWriters := make(chan struct{})
	var handlersDone, writersDone atomic.Int32

	done := serveAsync(l, func(c net.Conn) {
		defer handlersDone.Add(1)
		defer c.Close()
		name, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Errorf("handler read: %v", err)
			return
		}
		fmt.Fprintf(c, "hello %s", name)
		<-releaseHandlers
		// Started while the test is blocked in Wait.
		l.Go(func() {
			defer writersDone.Add(1)
			<-releaseWriters
		})
	})

	for i := range clients {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		fmt.Fprintf(c, "client%d\n", i)
		got, err := bufio.NewReader(c).ReadString('\n')
		if want := fmt.Sprintf("hello client%d\n", i); err != nil || got != want {
			t.Fatalf("reply = %q, %v; want %q", got, err, want)
		}
	}
	eventually(t, "all handlers to be running", func() bool { return l.Active() == clients })

	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := within(t, done, "Serve to return after Close"); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	if !stillWaiting(l) {
		t.Fatal("Wait would return while handlers are blocked")
	}

	waited := make(chan struct{})
	go func() {
		l.Wait()
		close(waited)
	}()
	close(releaseHandlers)
	eventually(t, "handlers to return", func() bool { return handlersDone.Load() == clients })
	eventually(t, "only writers to be left", func() bool { return l.Active() == clients })
	select {
	case <-waited:
		t.Fatal("Wait returned while Go goroutines were blocked")
	default:
	}
	close(releaseWriters)
	within(t, waited, "Wait to return")
	if n := writersDone.Load(); n != clients {
		t.Errorf("Wait returned with %d of %d writers done", n, clients)
	}
	if n := l.Active(); n != 0 {
		t.Errorf("Active() = %d after Wait, want 0", n)
	}
}

// TestGoWhileWaiting hammers Go from tracked goroutines while Wait is
// blocked; -race and the counter's own checks catch misuse.
func TestGoWhileWaiting(t *testing.T) {
	for range 50 {
		l := New(newFake())
		var ran atomic.Int32
		var spawn func(depth int)
		spawn = func(depth int) {
			ran.Add(1)
			if depth == 0 {
				return
			}
			l.Go(func() { spawn(depth - 1) })
			l.Go(func() { spawn(depth - 1) })
		}
		waited := make(chan struct{})
		l.Go(func() { spawn(5) })
		go func() {
			l.Wait()
			close(waited)
		}()
		within(t, waited, "Wait")
		if n := ran.Load(); n != 63 {
			t.Fatalf("Wait returned after %d of 63 goroutines", n)
		}
		l.Close()
		l.Wait()
	}
}
