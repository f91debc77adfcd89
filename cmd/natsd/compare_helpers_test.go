package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/natsd/natsd/internal/tools"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// target is a running server a test talks to: natsd, or nats-server
// v2.15.2 started with the same config file, so that a test can check that
// both answer a client alike.
type target struct {
	name string
	url  string // nats://host:port
	mon  string // http://host:port, or "" without monitoring
	// hup sends the server SIGHUP (reload); log returns its output so far.
	hup func()
	log func() string
}

// waitLog waits until the server's output contains s.
func (tg target) waitLog(t *testing.T, s string) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if strings.Contains(tg.log(), s) {
			return poll.Success()
		}
		return poll.Continue("waiting for %q in the %s log", s, tg.name)
	}, poll.WithDelay(5*time.Millisecond), poll.WithTimeout(20*time.Second))
}

// logCount counts the occurrences of s in the server's output.
func (tg target) logCount(s string) int { return strings.Count(tg.log(), s) }

// natsdTarget starts natsd with conf (and args) on random ports.
func natsdTarget(t *testing.T, conf string, args ...string) target {
	t.Helper()
	p := startNatsd(t, append([]string{"-c", conf, "-m", "-1"}, args...)...)
	ports := p.ports()
	tg := target{name: "natsd", url: ports.Nats[0], hup: func() { p.signal(syscall.SIGHUP) }, log: p.out.String}
	if len(ports.Monitoring) > 0 {
		tg.mon = ports.Monitoring[0]
	}
	return tg
}

// natsServerTarget starts nats-server v2.15.2 with conf on random ports.
func natsServerTarget(t *testing.T, conf string) target {
	t.Helper()
	bin := tools.ForTest(t, tools.NatsServer)
	dir := t.TempDir()
	cmd := exec.Command(bin, "-c", conf, "-a", "127.0.0.1", "-p", "-1", "-m", "-1", "--ports_file_dir", dir)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
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
	portsFile := filepath.Join(dir, fmt.Sprintf("nats-server_%d.ports", cmd.Process.Pid))
	var ports struct{ Nats, Monitoring []string }
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		select {
		case <-exited:
			return poll.Error(fmt.Errorf("nats-server exited:\n%s", out.String()))
		default:
		}
		b, err := os.ReadFile(portsFile)
		if err != nil || json.Unmarshal(b, &ports) != nil || len(ports.Nats) == 0 {
			return poll.Continue("waiting for nats-server's ports file")
		}
		return poll.Success()
	}, poll.WithDelay(5*time.Millisecond), poll.WithTimeout(20*time.Second))
	tg := target{name: "nats-server", url: ports.Nats[0], log: out.String,
		hup: func() { assert.NilError(t, cmd.Process.Signal(syscall.SIGHUP)) }}
	if len(ports.Monitoring) > 0 {
		tg.mon = ports.Monitoring[0]
	}
	return tg
}

// both starts natsd and nats-server with the same config.
func both(t *testing.T, conf string) []target {
	t.Helper()
	return []target{natsdTarget(t, conf), natsServerTarget(t, conf)}
}

// hostPort returns the target's address.
func (tg target) hostPort(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(tg.url)
	assert.NilError(t, err)
	return u.Host
}

// wire is a raw protocol client.
type wire struct {
	t    *testing.T
	nc   net.Conn
	r    *bufio.Reader
	info map[string]any
}

// dialWire connects to tg and reads its INFO.
func dialWire(t *testing.T, tg target) *wire {
	t.Helper()
	nc, err := net.Dial("tcp", tg.hostPort(t))
	assert.NilError(t, err)
	t.Cleanup(func() { nc.Close() })
	w := &wire{t: t, nc: nc, r: bufio.NewReader(nc)}
	line := w.line()
	js, ok := strings.CutPrefix(line, "INFO ")
	assert.Assert(t, ok, "want INFO, got %q", line)
	assert.NilError(t, json.Unmarshal([]byte(js), &w.info))
	return w
}

func (w *wire) send(s string) {
	w.t.Helper()
	_, err := io.WriteString(w.nc, s)
	assert.NilError(w.t, err)
}

// line returns the next protocol line without its CRLF, or "EOF" once the
// server has closed the connection. The server's own PINGs (nats-server
// sends one soon after a client connects) are answered and skipped.
func (w *wire) line() string {
	w.t.Helper()
	for {
		w.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		l, err := w.r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset") {
				return "EOF"
			}
			w.t.Fatalf("read: %v (got %q)", err, l)
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "PING" {
			io.WriteString(w.nc, "PONG\r\n")
			continue
		}
		return l
	}
}

// expect reads one line per want and checks them in order.
func (w *wire) expect(want ...string) {
	w.t.Helper()
	for _, wl := range want {
		assert.Equal(w.t, w.line(), wl)
	}
}

// has reports whether INFO carries the field.
func (w *wire) has(field string) bool {
	_, ok := w.info[field]
	return ok
}
