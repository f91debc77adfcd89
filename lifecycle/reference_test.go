package lifecycle

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/internal/tools"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// startReferenceServer runs the pinned nats-server on a random loopback port
// with the config file body conf and returns its client address. The
// process is killed at the end of the test. The test is skipped if
// nats-server cannot be installed here.
func startReferenceServer(t *testing.T, conf string) string {
	t.Helper()
	bin := tools.ForTest(t, tools.NatsServer)
	path := filepath.Join(t.TempDir(), "nats-server.conf")
	assert.NilError(t, os.WriteFile(path, []byte(conf), 0o644))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-c", path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	assert.NilError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("nats-server output:\n%s", out.String())
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		select {
		case <-exited:
			return poll.Error(errors.New("nats-server exited"))
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return poll.Success()
		}
		return poll.Continue("waiting for nats-server on %s", addr)
	}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(20*time.Second))
	return addr
}

// dialRawAddr is dialRaw for any server's address.
func dialRawAddr(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	assert.NilError(t, err)
	t.Cleanup(func() { nc.Close() })
	c := &rawClient{t: t, nc: nc, r: bufio.NewReader(nc)}
	line := c.line()
	assert.Assert(t, strings.HasPrefix(line, "INFO {"), line)
	return c
}
