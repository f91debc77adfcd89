package lifecycle

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
)

// The upgrade tests run both processes of an upgrade in this one: the
// "new process" is a second Server started on the sockets the first one
// hands over, on an in-memory network whose sockets can be shared as a
// descriptor is (see sharedSockets), inside a synctest bubble.

// sharedSockets wraps a memNet so that its listeners can be duplicated:
// every handle has its own Close, and the socket closes with the last
// handle, as a socket shared by two processes closes with the last
// descriptor.
type sharedSockets struct{ mn *memNet }

func (s sharedSockets) Listen(network, address string) (net.Listener, error) {
	l, err := s.mn.Listen(network, address)
	if err != nil {
		return nil, err
	}
	refs := new(atomic.Int32)
	refs.Store(1)
	return &sockHandle{ml: l.(*memListener), refs: refs, done: make(chan struct{})}, nil
}

// sockHandle is one descriptor of a shared memListener.
type sockHandle struct {
	ml   *memListener
	refs *atomic.Int32
	once sync.Once
	done chan struct{}
}

func (h *sockHandle) dup() *sockHandle {
	h.refs.Add(1)
	return &sockHandle{ml: h.ml, refs: h.refs, done: make(chan struct{})}
}

func (h *sockHandle) Accept() (net.Conn, error) {
	select {
	case c := <-h.ml.conns:
		return c, nil
	case <-h.done:
	case <-h.ml.done:
	}
	return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: h.ml.addr, Err: net.ErrClosed}
}

func (h *sockHandle) Close() error {
	h.once.Do(func() {
		close(h.done)
		if h.refs.Add(-1) == 0 {
			h.ml.Close()
		}
	})
	return nil
}

func (h *sockHandle) Addr() net.Addr { return h.ml.addr }

// fakeInherited hands the duplicated sockets to the new server.
type fakeInherited struct {
	socks map[string]net.Listener
	done  bool
}

func (f *fakeInherited) Listener(name string, port int) (net.Listener, error) {
	l := f.socks[name]
	delete(f.socks, name)
	return l, nil
}

func (f *fakeInherited) Done() error {
	for _, l := range f.socks {
		l.Close()
	}
	f.done = true
	return nil
}

func (f *fakeInherited) Source() string { return "PID 4242" }
func (f *fakeInherited) ParentPID() int { return 4242 }

// fakeSuccessor is the new process as the old one watches it.
type fakeSuccessor struct {
	ready   chan error
	aborted atomic.Bool
}

func (f *fakeSuccessor) PID() int            { return 4343 }
func (f *fakeSuccessor) Ready() <-chan error { return f.ready }
func (f *fakeSuccessor) Abort()              { f.aborted.Store(true) }

// upgrader is a Deps.Upgrade for the tests: each upgrade gets a fake
// successor; with start set, a new server is started on the handed
// sockets and its start reported as the successor's readiness.
type upgrader struct {
	t     *testing.T
	start bool
	mod   func(*Options)
	fail  error // returned instead of starting anything

	mu    sync.Mutex
	succ  []*fakeSuccessor
	socks []string
	next  *Server
}

func (u *upgrader) upgrade(socks []Socket) (Successor, error) {
	if u.fail != nil {
		return nil, u.fail
	}
	f := &fakeSuccessor{ready: make(chan error, 1)}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.succ = append(u.succ, f)
	u.socks = nil
	for _, s := range socks {
		u.socks = append(u.socks, s.Name)
	}
	if !u.start {
		return f, nil
	}
	in := &fakeInherited{socks: map[string]net.Listener{}}
	for _, s := range socks {
		in.socks[s.Name] = s.Listener.(*sockHandle).dup()
	}
	o := &Options{Host: "127.0.0.1", Port: RandomPort}
	if u.mod != nil {
		u.mod(o)
	}
	next, err := New(o, Deps{Log: quietLog(u.t), Inherited: in})
	if err != nil {
		return nil, err
	}
	u.next = next
	u.t.Cleanup(func() { next.Shutdown() })
	go func() { f.ready <- next.Start() }()
	return f, nil
}

func (u *upgrader) last() *fakeSuccessor {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.succ[len(u.succ)-1]
}

func (u *upgrader) nextServer() *Server {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.next
}

// upgradeOptions: a monitoring port, and a lame duck long enough to watch.
func upgradeOptions(o *Options) {
	o.HTTPPort = RandomPort
	o.LameDuckDuration = 10 * time.Second
	o.LameDuckGracePeriod = time.Second
	o.UpgradeTimeout = 5 * time.Second
}

// TestUpgradeHandsOverAndDrains: the new server starts on the sockets of
// the old one (its history says so); the old one hands them over, tells
// its clients it is in lame duck, and drains; new connections and /healthz
// reach the new server on the same addresses, and the old clients
// reconnect there.
func TestUpgradeHandsOverAndDrains(t *testing.T) {
	bubble(t, func(t *testing.T) {
		mn := newMemNet()
		u := &upgrader{t: t, start: true, mod: func(o *Options) {
			upgradeOptions(o)
			o.HTTPPort = RandomPort
		}}
		old := startServerWith(t, Deps{Log: quietLog(t), Listen: sharedSockets{mn}.Listen, Upgrade: u.upgrade}, upgradeOptions)
		addr, httpAddr := old.Addr(), old.Ports().Monitoring[0][len("http://"):]
		var ldm atomic.Bool
		nc := connectMem(t, mn, old, nats.LameDuckModeHandler(func(*nats.Conn) { ldm.Store(true) }),
			func(o *nats.Options) error { o.AllowReconnect = true; o.MaxReconnect = -1; return nil },
			nats.ReconnectWait(100*time.Millisecond))
		assert.Equal(t, nc.ConnectedServerId(), old.ID())

		done, err := old.UpgradeCause("test")
		assert.NilError(t, err)
		assert.NilError(t, <-done)
		assert.DeepEqual(t, u.socks, []string{SocketClient, SocketHTTP})
		next := u.nextServer()
		assert.Equal(t, old.State(), LameDuck)
		assert.Equal(t, next.State(), Listening)
		assert.Equal(t, next.Addr(), addr)
		assert.DeepEqual(t, historyLines(next), []string{"init -start-> listening (inherited sockets from PID 4242)"})

		synctest.Wait()
		assert.Assert(t, ldm.Load(), "the old server's client got no INFO with ldm")
		// The same address, answered by the new server.
		assert.Assert(t, strings.Contains(dialInfo(t, mn, addr), `"server_id":"`+next.ID()+`"`))
		resp, err := mn.httpClient().Get("http://" + httpAddr + "/healthz")
		assert.NilError(t, err)
		resp.Body.Close()
		assert.Equal(t, resp.StatusCode, http.StatusOK)

		old.WaitForShutdown()
		assert.DeepEqual(t, historyLines(old), []string{
			"init -start-> listening (start)",
			"listening -upgrade-> upgrading (test)",
			"upgrading -handoff-> lame_duck (new process PID 4343 ready)",
			"lame_duck -shutdown-> shutting_down (lame duck drain complete)",
			"shutting_down -stopped-> stopped (shutdown complete)",
		})
		assert.Assert(t, !u.last().aborted.Load(), "the new process was aborted")
		for nc.ConnectedServerId() != next.ID() {
			time.Sleep(10 * time.Millisecond) // the fake clock: the reconnect is due
		}
	})
}

// TestUpgradeRollback: a new process that reports an error, or is not ready
// within upgrade_timeout, is aborted; the old server is listening again,
// kept serving throughout and says why. One that cannot be started cancels
// the upgrade outright.
func TestUpgradeRollback(t *testing.T) {
	for _, tc := range []struct {
		name   string
		report error // sent as the successor's readiness; nil: never
		fail   error // returned by Deps.Upgrade
		want   string
	}{
		{name: "reports an error", report: errors.New("new process (PID 4343): config file x.conf: bad"), want: "upgrade failed: new process (PID 4343): config file x.conf: bad"},
		{name: "never ready", want: "upgrade failed: new process (PID 4343) not ready within upgrade_timeout (5s)"},
		{name: "cannot start", fail: errors.New("start /bin/natsd: exec format error"), want: "upgrade failed: start /bin/natsd: exec format error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				mn := newMemNet()
				u := &upgrader{t: t, fail: tc.fail}
				s := startMemServer(t, mn, Deps{Upgrade: u.upgrade}, upgradeOptions)
				before := dialMemRaw(t, mn, s)
				before.send("CONNECT {\"verbose\":false}\r\nPING\r\n")
				assert.Equal(t, before.line(), "PONG")
				done, err := s.UpgradeCause("test")
				if tc.fail != nil {
					assert.Error(t, err, tc.want)
					assert.Equal(t, s.State(), Listening)
					assert.Equal(t, len(s.History()), 1)
					return
				}
				assert.NilError(t, err)
				assert.Equal(t, s.State(), Upgrading)
				// Still served while upgrading.
				assert.Assert(t, strings.Contains(dialInfo(t, mn, s.Addr()), s.ID()))
				if tc.report != nil {
					u.last().ready <- tc.report
				}
				assert.Error(t, <-done, tc.want)
				assert.Equal(t, s.State(), Listening)
				assert.Assert(t, u.last().aborted.Load(), "the new process was not aborted")
				h := historyLines(s)
				assert.Equal(t, h[len(h)-1], "upgrading -rollback-> listening ("+tc.want+")")
				before.send("PING\r\n")
				line := before.line()
				for line == "PING" { // the server's own, due in the fake time that passed
					before.send("PONG\r\n")
					line = before.line()
				}
				assert.Equal(t, line, "PONG")
				assert.Assert(t, strings.Contains(dialInfo(t, mn, s.Addr()), s.ID()))
				// A second upgrade may follow.
				_, err = s.UpgradeCause("again")
				assert.NilError(t, err)
				assert.Equal(t, s.State(), Upgrading)
			})
		})
	}
}

// TestUpgradeCutShort: a lame duck or a shutdown asked for while upgrading
// aborts the new process and goes on as asked; the upgrade's caller is
// told.
func TestUpgradeCutShort(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(*Server) error
		want string
	}{
		{"lame duck", (*Server).EnterLameDuck, "upgrade cancelled by enter_lame_duck (api): new process PID 4343 killed"},
		{"shutdown", (*Server).Shutdown, "upgrade cancelled by shutdown (api): new process PID 4343 killed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				mn := newMemNet()
				u := &upgrader{t: t}
				s := startMemServer(t, mn, Deps{Upgrade: u.upgrade}, upgradeOptions)
				done, err := s.UpgradeCause("test")
				assert.NilError(t, err)
				assert.NilError(t, tc.do(s))
				assert.Error(t, <-done, tc.want)
				assert.Assert(t, u.last().aborted.Load())
				s.WaitForShutdown()
			})
		})
	}
}

// TestUpgradeWithoutUpgrader: a server given no way to start a successor
// refuses to upgrade and stays as it was.
func TestUpgradeWithoutUpgrader(t *testing.T) {
	s := startServer(t, nil)
	_, err := s.Upgrade()
	assert.Error(t, err, "upgrade refused: this server was started without a way to start its successor")
	assert.Equal(t, s.State(), Listening)
}

// dialInfo dials addr on mn and returns the INFO line it gets.
func dialInfo(t *testing.T, mn *memNet, addr string) string {
	t.Helper()
	nc, err := mn.Dial("tcp", addr)
	assert.NilError(t, err)
	defer nc.Close()
	c := &rawClient{t: t, nc: nc, r: bufio.NewReader(nc)}
	return c.line()
}
