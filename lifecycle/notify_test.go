package lifecycle

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/natsd/natsd/internal/sdnotify"
	"github.com/natsd/natsd/lifecycle/monitor"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"gotest.tools/v3/assert"
)

// fakeSystemd records the notifications the server sends, in order, as
// systemd's notify socket would receive them (lines joined by newlines).
// It is a [Notifier]; under synctest its channel belongs to the bubble.
type fakeSystemd struct {
	t        *testing.T
	msgs     chan string
	watchdog time.Duration
}

func newFakeSystemd(t *testing.T, watchdog time.Duration) *fakeSystemd {
	return &fakeSystemd{t: t, msgs: make(chan string, 1024), watchdog: watchdog}
}

func (f *fakeSystemd) Send(lines ...string) error {
	f.msgs <- strings.Join(lines, "\n")
	return nil
}

func (f *fakeSystemd) Watchdog() time.Duration { return f.watchdog }

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

// TestNotifySequence: READY=1 at start; RELOADING=1 then READY=1 around a
// reload, applied or rejected; STOPPING=1 with the time the drain may
// still take on lame duck and on shutdown. It runs on the fake clock of a
// synctest bubble, so the EXTEND_TIMEOUT_USEC figures are exact.
func TestNotifySequence(t *testing.T) {
	bubble(t, func(t *testing.T) {
		mn := newMemNet()
		fake := newFakeSystemd(t, 0)
		s := startMemServer(t, mn, Deps{Notifier: fake}, func(o *Options) {
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
		connectMem(t, mn, s)
		synctest.Wait()
		assert.Equal(t, s.NumClients(), 1)
		began := time.Now()
		assert.NilError(t, s.EnterLameDuck())
		m = fake.next()
		// lame_duck_duration + shutdown_timeout + margin = 3 s + 2 s + 5 s.
		assert.Equal(t, field(m, "EXTEND_TIMEOUT_USEC"), "10000000", m)
		assert.Assert(t, strings.HasPrefix(m, "STOPPING=1\n"), m)
		assert.Equal(t, field(m, "STATUS"), "lame duck: 1 clients left")
		s.WaitForShutdown()
		// The one client is closed in its slot of the 2 s window; the
		// shutdown then has its whole deadline plus the margin.
		m = fake.next()
		assert.Assert(t, strings.HasPrefix(m, "STOPPING=1\n"), m)
		assert.Equal(t, field(m, "EXTEND_TIMEOUT_USEC"), "7000000", m)
		assert.Assert(t, strings.HasPrefix(field(m, "STATUS"), "shutting down: "), m)
		assert.Assert(t, time.Since(began) > time.Second && time.Since(began) < 3*time.Second, "drained in %v", time.Since(began))
	})
}

// TestWatchdog: pings arrive at exactly half the watchdog interval, and
// stop while the lifecycle loop is blocked (fake clock: exact counts).
func TestWatchdog(t *testing.T) {
	bubble(t, func(t *testing.T) {
		fake := newFakeSystemd(t, 200*time.Millisecond)
		startMemServer(t, newMemNet(), Deps{Notifier: fake}, nil)
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
		// Ticks at 100 ms, 200 ms, ... 900 ms after the start.
		assert.Equal(t, pings(950*time.Millisecond), 9)

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
		got := pings(500 * time.Millisecond)
		loopHook.Store(nil)
		close(block)
		assert.Equal(t, got, 0, "pings arrived while the lifecycle loop was blocked")
	})
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
