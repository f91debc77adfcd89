package lifecycle

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if cond() {
			return poll.Success()
		}
		return poll.Continue("waiting for %s", what)
	}, poll.WithDelay(2*time.Millisecond), poll.WithTimeout(20*time.Second))
}

// TestShutdownLosesNoAcceptedMessage: a nats.go subscriber receives every
// one of the 20,000 messages a publisher flushed before shutdown began,
// before it sees the connection close.
func TestShutdownLosesNoAcceptedMessage(t *testing.T) {
	s := startServer(t, nil)
	closed := make(chan struct{})
	sub := connect(t, s, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	// nats.go's reader puts each message in the channel before it reads
	// the next bytes, so the channel holds everything received before the
	// close once the close is seen.
	ch := make(chan *nats.Msg, 30000)
	_, err := sub.ChanSubscribe("load", ch)
	assert.NilError(t, err)
	assert.NilError(t, sub.Flush())

	pub := connect(t, s)
	payload := bytes.Repeat([]byte("x"), 64)
	for range 20000 {
		assert.NilError(t, pub.Publish("load", payload))
	}
	assert.NilError(t, pub.Flush())

	assert.NilError(t, s.Shutdown())
	<-closed
	assert.Equal(t, len(ch), 20000)
}

// TestShutdownFlushesPendingOutput: a subscriber that has not read yet has
// far more queued than the socket buffers hold; shutdown flushes all of it
// before closing the socket.
func TestShutdownFlushesPendingOutput(t *testing.T) {
	s := startServer(t, nil)
	sub := dialRaw(t, s)
	sub.send("CONNECT {\"verbose\":false}\r\nSUB big 1\r\nPING\r\n")
	assert.Equal(t, sub.line(), "PONG")

	pub := connect(t, s)
	payload := bytes.Repeat([]byte("y"), 1024)
	const n = 20000 // 20 MB: far more than the socket buffers
	for range n {
		assert.NilError(t, pub.Publish("big", payload))
	}
	assert.NilError(t, pub.Flush())

	done := make(chan error)
	go func() { done <- s.Shutdown() }()
	count := 0
	for {
		line := sub.lineOrEOF()
		if line == "" {
			break
		}
		if strings.HasPrefix(line, "MSG big 1 1024") {
			count++
			sub.line() // payload
		}
	}
	assert.NilError(t, <-done)
	assert.Equal(t, count, n)
	for _, c := range s.Closed() {
		assert.Equal(t, c.Reason, conn.ServerShutdown)
	}
}

// TestShutdownIsBounded: a client that stopped reading cannot hold the
// shutdown past shutdown_timeout; it is closed without flush, exactly at
// the deadline (fake clock, in-memory network).
func TestShutdownIsBounded(t *testing.T) {
	bubble(t, func(t *testing.T) {
		mn := newMemNet()
		s := startMemServer(t, mn, Deps{}, func(o *Options) {
			o.ShutdownTimeout = 300 * time.Millisecond
			o.WriteDeadline = time.Minute
		})
		sub := dialMemRaw(t, mn, s)
		sub.send("CONNECT {\"verbose\":false}\r\nSUB stuck 1\r\nPING\r\n")
		assert.Equal(t, sub.line(), "PONG")
		pub := connectMem(t, mn, s)
		payload := bytes.Repeat([]byte("z"), 4096)
		for range 100 { // never read
			assert.NilError(t, pub.Publish("stuck", payload))
		}
		assert.NilError(t, pub.Flush())
		began := time.Now()
		assert.NilError(t, s.Shutdown())
		assert.Equal(t, time.Since(began), 300*time.Millisecond)
		assert.Equal(t, s.State(), Stopped)
		closed := s.Closed()
		assert.Equal(t, len(closed), 2)
		for _, c := range closed {
			assert.Equal(t, c.Reason, conn.ServerShutdown)
		}
	})
}

// TestShutdownLeavesNothing: after Stopped there is no listening socket, no
// PID file and no ports file (goroutines are checked by goleak).
func TestShutdownLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "natsd.pid")
	s := startServerWith(t, Deps{ProgName: "natsd"}, func(o *Options) {
		o.PidFile = pidFile
		o.PortsFileDir = dir
	})
	portsFile := filepath.Join(dir, "natsd_"+itoa(os.Getpid())+".ports")
	b, err := os.ReadFile(portsFile)
	assert.NilError(t, err)
	assert.Equal(t, string(b), `{"nats":["nats://`+s.Addr()+`"]}`)
	b, err = os.ReadFile(pidFile)
	assert.NilError(t, err)
	assert.Equal(t, string(b), itoa(os.Getpid()))
	// The PID file is the owner's alone, as nats-server writes it.
	for path, want := range map[string]os.FileMode{pidFile: 0o600, portsFile: 0o644} {
		fi, err := os.Stat(path)
		assert.NilError(t, err)
		assert.Equal(t, fi.Mode().Perm(), want, "mode of %s", filepath.Base(path))
	}
	addr := s.Addr()
	connect(t, s)

	assert.NilError(t, s.Shutdown())
	_, err = os.Stat(pidFile)
	assert.Assert(t, os.IsNotExist(err), "pid file left behind")
	_, err = os.Stat(portsFile)
	assert.Assert(t, os.IsNotExist(err), "ports file left behind")
	_, err = net.Dial("tcp", addr)
	assert.Assert(t, err != nil, "still listening on %s", addr)
	entries, _ := os.ReadDir(dir)
	assert.Equal(t, len(entries), 0, "files left in %s", dir)
}

func TestStartFailureLeavesNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer busy.Close()
	dir := t.TempDir()
	s, err := New(&Options{
		Host: "127.0.0.1", Port: busy.Addr().(*net.TCPAddr).Port,
		PidFile: filepath.Join(dir, "natsd.pid"), PortsFileDir: dir,
	}, Deps{Log: quietLog(t)})
	assert.NilError(t, err)
	err = s.Start()
	assert.ErrorContains(t, err, "address already in use")
	assert.Equal(t, s.State(), Stopped)
	entries, _ := os.ReadDir(dir)
	assert.Equal(t, len(entries), 0)
}

func itoa(i int) string { return strconv.Itoa(i) }
