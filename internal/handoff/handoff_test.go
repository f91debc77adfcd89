package handoff

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"gotest.tools/v3/assert"
)

// The tests re-run the test binary as the child (HANDOFF_TEST_CHILD names
// what it does), as tableflip's tests do.
const envChild = "HANDOFF_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(runChild(mode))
	}
	goleak.VerifyTestMain(m)
}

// runChild is the child's side: it takes over the client socket and
// answers HANDOFF_TEST_N connections with "<source> <pid>".
func runChild(mode string) int {
	in, err := FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	switch mode {
	case "fail":
		in.Fail(errors.New("config file natsd.conf: line 1: bad\nvalue"))
		return 1
	case "exit":
		return 3
	case "hang":
		select {}
	}
	if in == nil {
		fmt.Fprintln(os.Stderr, "child: nothing inherited")
		return 1
	}
	l, err := in.Listener(ClientName, -1)
	if err == nil && l == nil {
		err = errors.New("no client socket")
	}
	if err == nil {
		err = in.Done()
	}
	if err != nil {
		in.Fail(err)
		return 1
	}
	if err := in.Ready(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	n, _ := strconv.Atoi(os.Getenv("HANDOFF_TEST_N"))
	for range n {
		c, err := l.Accept()
		if err != nil {
			return 1
		}
		fmt.Fprintf(c, "%s %d\n", in.Source(), os.Getpid())
		c.Close()
	}
	return 0
}

// startChild starts the test binary as a child in mode with socks.
func startChild(t *testing.T, mode string, n int, socks ...Socket) *Child {
	t.Helper()
	env := append(os.Environ(), envChild+"="+mode, "HANDOFF_TEST_N="+strconv.Itoa(n))
	c, err := Start(os.Args[0], []string{os.Args[0]}, env, socks)
	assert.NilError(t, err)
	t.Cleanup(c.Abort)
	return c
}

func ready(t *testing.T, c *Child) error {
	t.Helper()
	select {
	case err := <-c.Ready():
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("no report from the child")
		return nil
	}
}

// nonBlocking reports whether l's open file is in non-blocking mode.
func nonBlocking(t *testing.T, l *net.TCPListener) bool {
	t.Helper()
	raw, err := l.SyscallConn()
	assert.NilError(t, err)
	var flags uintptr
	assert.NilError(t, raw.Control(func(fd uintptr) {
		flags, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	}))
	return flags&syscall.O_NONBLOCK != 0
}

// TestHandOverQueuedConnections: connections queued on a socket the parent
// never accepted on are answered by the child once the parent hands the
// socket over and closes its own descriptor; the parent's socket stayed
// non-blocking throughout.
func TestHandOverQueuedConnections(t *testing.T) {
	const n = 20
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	assert.NilError(t, err)
	var clients []net.Conn
	for range n {
		c, err := net.Dial("tcp", l.Addr().String())
		assert.NilError(t, err)
		defer c.Close()
		clients = append(clients, c)
	}
	child := startChild(t, "serve", n, Socket{Name: ClientName, Listener: l})
	assert.NilError(t, ready(t, child))
	assert.Assert(t, nonBlocking(t, l), "the parent's socket was switched to blocking mode")
	assert.NilError(t, l.Close())
	for _, c := range clients {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		assert.NilError(t, err)
		assert.Equal(t, line, fmt.Sprintf("PID %d %d\n", os.Getpid(), child.PID()))
	}
	<-child.Exited()
}

func TestChildReports(t *testing.T) {
	for _, tc := range []struct {
		mode, want string
	}{
		{"fail", "): config file natsd.conf: line 1: bad value"},
		{"exit", ") exited before it was ready: exit status 3"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
			assert.NilError(t, err)
			defer l.Close()
			child := startChild(t, tc.mode, 0, Socket{Name: ClientName, Listener: l})
			err = ready(t, child)
			assert.Error(t, err, fmt.Sprintf("new process (PID %d%s", child.PID(), tc.want))
			child.Abort()
			<-child.Exited()
		})
	}
}

// TestAbortKillsAndReaps: a child that never reports is killed and reaped.
func TestAbortKillsAndReaps(t *testing.T) {
	child := startChild(t, "hang", 0)
	child.Abort()
	select {
	case <-child.Exited():
	default:
		t.Fatal("Abort returned before the child was reaped")
	}
	assert.ErrorContains(t, <-child.Ready(), "exited before it was ready: signal: killed")
	child.Abort() // again: nothing left to do
}

func TestStartFailure(t *testing.T) {
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	assert.NilError(t, err)
	defer l.Close()
	_, err = Start("/nonexistent/natsd", []string{"natsd"}, nil, []Socket{{Name: ClientName, Listener: l}})
	assert.Error(t, err, "start /nonexistent/natsd: no such file or directory")
	_, err = Start(os.Args[0], []string{"natsd"}, nil, []Socket{{Name: "pipe", Listener: fakeListener{}}})
	assert.Error(t, err, "hand over the pipe socket: a handoff.fakeListener has no file descriptor")
	assert.Assert(t, nonBlocking(t, l))
}

type fakeListener struct{ net.Listener }

// TestSystemdSocketActivation passes a socket exactly as systemd does:
// fd 3, LISTEN_FDS=1, LISTEN_FDNAMES the socket unit's name, LISTEN_PID
// the PID of the process that gets them (set by the shell that then execs
// it, as systemd sets it between fork and exec).
func TestSystemdSocketActivation(t *testing.T) {
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	assert.NilError(t, err)
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	assert.NilError(t, err)
	defer c.Close()
	f, err := l.File()
	assert.NilError(t, err)
	defer f.Close()
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0"`, os.Args[0])
	cmd.Env = append(os.Environ(), envChild+"=serve", "HANDOFF_TEST_N=1", "LISTEN_FDS=1", "LISTEN_FDNAMES=natsd.socket")
	cmd.ExtraFiles = []*os.File{f}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	assert.NilError(t, cmd.Start())
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	assert.NilError(t, err, "%s", out.String())
	assert.Equal(t, line, fmt.Sprintf("systemd %d\n", cmd.Process.Pid))
	assert.NilError(t, cmd.Wait(), "%s", out.String())
}

// TestFromEnv covers what FromEnv decides from the variables alone.
func TestFromEnv(t *testing.T) {
	t.Run("none", func(t *testing.T) {
		in, err := FromEnv()
		assert.NilError(t, err)
		assert.Assert(t, in == nil)
	})
	t.Run("another process's", func(t *testing.T) {
		t.Setenv(envListenPID, "1")
		t.Setenv(envListenFDs, "1")
		in, err := FromEnv()
		assert.NilError(t, err)
		assert.Assert(t, in == nil)
		_, set := os.LookupEnv(envListenFDs)
		assert.Assert(t, !set, "LISTEN_FDS left in the environment")
	})
	t.Run("bad count", func(t *testing.T) {
		t.Setenv(envListenPID, strconv.Itoa(os.Getpid()))
		t.Setenv(envListenFDs, "two")
		_, err := FromEnv()
		assert.Error(t, err, `LISTEN_FDS="two" is not a number of sockets`)
	})
	t.Run("bad parent", func(t *testing.T) {
		t.Setenv(envParent, "x")
		_, err := FromEnv()
		assert.Error(t, err, `NATSD_UPGRADE_PARENT="x" is not a PID`)
	})
}

func TestSystemdNames(t *testing.T) {
	for _, tc := range []struct {
		count   int
		names   string
		want    []string
		wantErr string
	}{
		{count: 1, names: "", want: []string{"client"}},
		{count: 1, names: "natsd.socket", want: []string{"client"}},
		{count: 1, names: "unknown", want: []string{"client"}},
		{count: 1, names: "http", want: []string{"http"}},
		{count: 2, names: "client:http", want: []string{"client", "http"}},
		{count: 2, names: "", want: []string{"", ""}},
		{count: 2, names: "client", wantErr: `LISTEN_FDNAMES="client" names 1 sockets, but LISTEN_FDS=2`},
	} {
		t.Run(fmt.Sprintf("%d/%s", tc.count, tc.names), func(t *testing.T) {
			got, err := systemdNames(tc.count, tc.names)
			if tc.wantErr != "" {
				assert.Error(t, err, tc.wantErr)
				return
			}
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}
