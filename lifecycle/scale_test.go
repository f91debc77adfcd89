package lifecycle

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/internal/soak"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"go.uber.org/goleak"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// warmNetpoll makes the runtime open its network poller (an epoll fd and
// an eventfd) before a test counts its file descriptors, so the baseline
// already holds them.
func warmNetpoll(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	ln.Close()
}

// waitFDs waits until this process has at most want file descriptors
// open, and returns how many it has.
func waitFDs(t *testing.T, want int) int {
	t.Helper()
	var got int
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if got = soak.FDs("self"); got <= want {
			return poll.Success()
		}
		return poll.Continue("%d file descriptors open, want %d as before", got, want)
	}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(10*time.Second))
	return got
}

// Environment of the client-holder child (see TestHelperClientHolder).
const (
	holderAddr = "NATSD_TEST_HOLDER_ADDR"
	holderN    = "NATSD_TEST_HOLDER_N"
)

// clientHolder is a child process (this test binary, re-run as
// TestHelperClientHolder) holding the client ends of many connections, so
// that this process holds only the server's ends.
type clientHolder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startClientHolder dials n subscribed connections to addr from a child
// process and returns once all of them got their PONG.
func startClientHolder(t *testing.T, addr string, n int) *clientHolder {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperClientHolder$", "-test.count=1")
	cmd.Env = append(os.Environ(), holderAddr+"="+addr, holderN+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	assert.NilError(t, err)
	stdout, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, cmd.Start())
	h := &clientHolder{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		h.stdin.Close()
		h.cmd.Process.Kill()
		h.cmd.Wait()
	})
	line := h.line(t)
	assert.Equal(t, line, "ready", "client holder: %s", line)
	return h
}

// line reads the holder's next line of its own (the testing package's
// lines are skipped).
func (h *clientHolder) line(t *testing.T) string {
	t.Helper()
	for {
		l, err := h.out.ReadString('\n')
		assert.NilError(t, err, "client holder exited")
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "holder: ") {
			return strings.TrimPrefix(l, "holder: ")
		}
	}
}

// checkEOF asks the holder to read every connection to its end; it
// answers how many did not end with a clean EOF, and then exits.
func (h *clientHolder) checkEOF(t *testing.T) string {
	t.Helper()
	_, err := io.WriteString(h.stdin, "check\n")
	assert.NilError(t, err)
	l := h.line(t)
	h.stdin.Close()
	assert.NilError(t, h.cmd.Wait())
	return l
}

// TestHelperClientHolder is not a test: started by startClientHolder, it
// dials the connections, says "ready", waits for "check" on stdin, then
// reads each connection and reports whether all ended with a clean EOF.
func TestHelperClientHolder(t *testing.T) {
	addr := os.Getenv(holderAddr)
	if addr == "" {
		t.Skip("helper process of TestScaleShutdown")
	}
	n, _ := strconv.Atoi(os.Getenv(holderN))
	conns, err := soak.DialMany(addr, n, 32, func(i int) string {
		return fmt.Sprintf("SUB scale.%d %d\r\n", i, i)
	}, 60*time.Second)
	if err != nil {
		fmt.Printf("\nholder: dial: %v\n", err)
		return
	}
	defer soak.CloseAll(conns)
	fmt.Printf("\nholder: ready\n")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return
	}
	bad, first := soak.ExpectEOF(conns, 10*time.Second)
	fmt.Printf("\nholder: eof bad=%d first=%v\n", bad, first)
}

// TestScaleShutdown holds N connections, each subscribed to a subject of
// its own (N = 1,000 in make test, 20,000 under NATSD_SOAK=1, fewer if the
// file-descriptor limit cannot be raised that far), then shuts the server
// down: every connection is closed with ServerShutdown and a clean FIN,
// none is force-closed, the shutdown beats shutdown_timeout, and the
// server's goroutines and file descriptors return to what they were before
// it started. The client ends live in a child process.
func TestScaleShutdown(t *testing.T) {
	n, note := soak.ScaleConnections(t, 128)
	const deadline = 10 * time.Second

	warmNetpoll(t)
	leaks := goleak.IgnoreCurrent()
	gBefore, fdBefore := runtime.NumGoroutine(), soak.FDs("self")

	log := quietLog(t)
	hook := logtest.NewLocal(log)
	s, err := New(&Options{
		Host: "127.0.0.1", Port: RandomPort,
		MaxClosedClients: n + 10, ShutdownTimeout: deadline,
	}, Deps{Log: log})
	assert.NilError(t, err)
	assert.NilError(t, s.Start())
	defer s.Shutdown()

	began := time.Now()
	holder := startClientHolder(t, s.Addr(), n)
	dialed := time.Since(began)
	assert.Equal(t, s.NumClients(), n)
	assert.Equal(t, clientSubs(s), n)
	gPeak, fdPeak := runtime.NumGoroutine(), soak.FDs("self")

	start := time.Now()
	assert.NilError(t, s.ShutdownCause("scale test"))
	took := time.Since(start)
	assert.Assert(t, took < deadline, "shutdown of %d connections took %v, over shutdown_timeout %v", n, took, deadline)

	closed := s.Closed()
	assert.Equal(t, len(closed), n)
	reasons := map[conn.ClosedState]int{}
	for _, c := range closed {
		reasons[c.Reason]++
	}
	assert.DeepEqual(t, reasons, map[conn.ClosedState]int{conn.ServerShutdown: n})
	for _, e := range hook.AllEntries() {
		assert.Assert(t, e.Level > logrus.WarnLevel, "logged %s: %s", e.Level, e.Message)
	}
	assert.Equal(t, holder.checkEOF(t), "eof bad=0 first=<nil>")

	goleak.VerifyNone(t, leaks)
	fdAfter := waitFDs(t, fdBefore)
	gAfter := runtime.NumGoroutine()
	t.Logf("%d connections dialed in %v; shutdown %v; goroutines %d/%d/%d; fds %d/%d/%d",
		n, dialed, took, gBefore, gPeak, gAfter, fdBefore, fdPeak, fdAfter)
	notes := []string{fmt.Sprintf("client ends in a child process; %d connections dialed in %v; RSS is the test process's", n, dialed.Round(time.Millisecond))}
	if note != "" {
		notes = append(notes, note)
	}
	assert.NilError(t, soak.Record(soak.Figures{
		Suite: "scale shutdown", Mode: "in-process", Connections: n,
		Shutdown: took, Deadline: deadline, MaxRSSKiB: soak.SelfMaxRSSKiB(),
		GoroutinesBefore: gBefore, GoroutinesPeak: gPeak, GoroutinesAfter: gAfter,
		FDsBefore: fdBefore, FDsPeak: fdPeak, FDsAfter: fdAfter,
		Notes: strings.Join(notes, "; "),
	}))
}
