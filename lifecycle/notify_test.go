package lifecycle

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/natsd/natsd/internal/sdnotify"
	"github.com/natsd/natsd/lifecycle/monitor"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"gotest.tools/v3/assert"
)

// fakeSystemd is a unixgram socket standing in for systemd's notify socket.
type fakeSystemd struct {
	t    *testing.T
	conn *net.UnixConn
	msgs chan string
}

func newFakeSystemd(t *testing.T, watchdog time.Duration) (*fakeSystemd, *sdnotify.Notifier) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	assert.NilError(t, err)
	f := &fakeSystemd{t: t, conn: conn, msgs: make(chan string, 1024)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(f.msgs)
				return
			}
			f.msgs <- string(buf[:n])
		}
	}()
	n, err := sdnotify.New(path, watchdog)
	assert.NilError(t, err)
	t.Cleanup(func() {
		n.Close()
		conn.Close()
		for range f.msgs {
		}
	})
	return f, n
}

// next returns the next message that is not a heartbeat.
func (f *fakeSystemd) next() string {
	f.t.Helper()
	for {
		select {
		case m := <-f.msgs:
			if strings.Contains(m, "WATCHDOG=1") || (strings.HasPrefix(m, "STATUS=") && !strings.Contains(m, "READY") && !strings.Contains(m, "STOPPING")) {
				continue
			}
			return m
		case <-time.After(10 * time.Second):
			f.t.Fatal("no notify message")
			return ""
		}
	}
}

// field returns the value of NAME= in msg.
func field(msg, name string) string {
	for _, l := range strings.Split(msg, "\n") {
		if v, ok := strings.CutPrefix(l, name+"="); ok {
			return v
		}
	}
	return ""
}

func TestNotifySequence(t *testing.T) {
	fake, n := newFakeSystemd(t, 0)
	s := startServerWith(t, Deps{Notifier: n}, func(o *Options) {
		o.LameDuckDuration = 3 * time.Second
		o.LameDuckGracePeriod = time.Second
		o.ShutdownTimeout = 2 * time.Second
	})

	// Start: READY=1 with MAINPID, after the files exist.
	m := fake.next()
	assert.Equal(t, m, "READY=1\nMAINPID="+strconv.Itoa(pid())+"\nSTATUS=listening, 0 clients")

	// Reload applied: RELOADING=1 with a sane MONOTONIC_USEC, then READY=1.
	o := s.Options()
	o.MaxPayload = 2048
	before := sdnotify.Monotonic()
	assert.NilError(t, s.Reload(&o, "test"))
	m = fake.next()
	mono, err := strconv.ParseInt(field(m, "MONOTONIC_USEC"), 10, 64)
	assert.NilError(t, err)
	assert.Assert(t, strings.HasPrefix(m, "RELOADING=1\n") && mono >= before && mono <= sdnotify.Monotonic(), m)
	assert.Equal(t, fake.next(), "READY=1\nSTATUS=listening, 0 clients")

	// Reload rejected: RELOADING=1 then READY=1 all the same.
	o.ServerName = "renamed"
	assert.ErrorContains(t, s.Reload(&o, "test"), "cannot change server_name")
	assert.Assert(t, strings.HasPrefix(fake.next(), "RELOADING=1\nMONOTONIC_USEC="))
	assert.Equal(t, fake.next(), "READY=1\nSTATUS=listening, 0 clients")

	// Lame duck, then shutdown: STOPPING=1 with the drain's time left.
	connect(t, s)
	waitFor(t, "client", func() bool { return s.NumClients() == 1 })
	assert.NilError(t, s.EnterLameDuck())
	m = fake.next()
	ext, err := strconv.ParseInt(field(m, "EXTEND_TIMEOUT_USEC"), 10, 64)
	assert.NilError(t, err)
	// lame_duck_duration + shutdown_timeout + margin = 3 s + 2 s + 5 s.
	assert.Assert(t, strings.HasPrefix(m, "STOPPING=1\n") && ext > 9_900_000 && ext <= 10_000_000, m)
	assert.Equal(t, field(m, "STATUS"), "lame duck: 1 clients left")
	s.WaitForShutdown()
	m = fake.next()
	ext, err = strconv.ParseInt(field(m, "EXTEND_TIMEOUT_USEC"), 10, 64)
	assert.NilError(t, err)
	assert.Assert(t, strings.HasPrefix(m, "STOPPING=1\n") && ext > 6_900_000 && ext <= 7_000_000, m)
	assert.Assert(t, strings.HasPrefix(field(m, "STATUS"), "shutting down: "), m)
}

// TestWatchdog: pings arrive at half the watchdog interval, and stop while
// the lifecycle loop is blocked.
func TestWatchdog(t *testing.T) {
	fake, n := newFakeSystemd(t, 200*time.Millisecond)
	startServerWith(t, Deps{Notifier: n}, nil)
	pings := func(d time.Duration) int {
		count := 0
		end := time.After(d)
		for {
			select {
			case m := <-fake.msgs:
				if strings.Contains(m, "WATCHDOG=1") {
					count++
				}
			case <-end:
				return count
			}
		}
	}
	got := pings(time.Second)
	assert.Assert(t, got >= 7 && got <= 11, "%d pings in 1 s with a 200 ms watchdog (want every 100 ms)", got)

	block, blocked := make(chan struct{}), make(chan struct{}, 1)
	hook := func() {
		select {
		case blocked <- struct{}{}:
		default:
		}
		<-block
	}
	loopHook.Store(&hook)
	<-blocked
	for len(fake.msgs) > 0 { // what was sent before the loop blocked
		<-fake.msgs
	}
	got = pings(500 * time.Millisecond)
	loopHook.Store(nil)
	close(block)
	assert.Equal(t, got, 0, "pings arrived while the lifecycle loop was blocked")
}

func pid() int { return os.Getpid() }

// notifierFunc is a [Notifier] that hands every notification to a
// function, on the goroutine that sends it.
type notifierFunc struct {
	send     func(lines []string)
	watchdog time.Duration
}

func (n notifierFunc) Send(lines ...string) error { n.send(lines); return nil }
func (n notifierFunc) Watchdog() time.Duration    { return n.watchdog }

// TestReadyMeansEveryListenerIsUp: "Server is ready" is logged after every
// listener's start line, in nats-server's order, and when READY=1 is sent
// the monitoring port answers /healthz 200 and the client port greets
// with INFO.
func TestReadyMeansEveryListenerIsUp(t *testing.T) {
	log := quietLog(t)
	hook := logtest.NewLocal(log)
	var (
		mu     sync.Mutex
		events []string
		s      *Server
	)
	note := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	n := notifierFunc{send: func(lines []string) {
		if lines[0] != "READY=1" || s == nil {
			return
		}
		for _, e := range hook.AllEntries() {
			note(e.Message)
		}
		note("READY=1")
		code, body, err := monGet(monURL(t, s) + monitor.HealthzPath)
		if err != nil || code != http.StatusOK {
			note(fmt.Sprintf("healthz answered %d %s %v", code, body, err))
		}
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			note("client port: " + err.Error())
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if !strings.HasPrefix(line, "INFO ") {
			note(fmt.Sprintf("client port: %q %v", line, err))
		}
	}}
	o := &Options{Host: "127.0.0.1", Port: RandomPort, HTTPPort: RandomPort, ProfPort: RandomPort}
	var err error
	s, err = New(o, Deps{Log: log, Notifier: n})
	assert.NilError(t, err)
	assert.NilError(t, s.Start())
	defer s.Shutdown()

	mu.Lock()
	defer mu.Unlock()
	var order []string
	for _, e := range events {
		for _, p := range []string{"Starting http monitor", "Starting profiling", "Listening for client connections", "Server is ready", "READY=1", "healthz", "client port"} {
			if strings.HasPrefix(e, p) {
				order = append(order, p)
			}
		}
	}
	assert.DeepEqual(t, order, []string{"Starting http monitor", "Starting profiling", "Listening for client connections", "Server is ready", "READY=1"})
}
