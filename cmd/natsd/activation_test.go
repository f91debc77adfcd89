package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
)

// activated starts natsd exactly as systemd's socket activation does:
// the socket is fd 3, LISTEN_FDS=1 and LISTEN_FDNAMES name it, and
// LISTEN_PID is the PID of natsd itself (set by a shell that then execs
// natsd, as systemd sets it between fork and exec). sock is the test's
// copy: like systemd, the test keeps the socket open across restarts.
func activated(t *testing.T, sock *os.File, name string, args ...string) *proc {
	t.Helper()
	dir := t.TempDir()
	p := &proc{t: t, bin: natsdBin, dir: dir, pidFile: filepath.Join(dir, "natsd.pid"), out: &syncBuffer{}, exited: make(chan struct{})}
	argv := append([]string{"-c", `LISTEN_PID=$$ exec "$0" "$@"`, natsdBin, "-a", "127.0.0.1", "-P", p.pidFile, "--ports_file_dir", dir}, args...)
	p.cmd = exec.Command("/bin/sh", argv...)
	p.cmd.Env = append(os.Environ(), "LISTEN_FDS=1", "LISTEN_FDNAMES="+name)
	p.cmd.ExtraFiles = []*os.File{sock}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	assert.NilError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("natsd output:\n%s", p.out.String())
		}
	})
	return p
}

// systemdSocket binds a loopback socket as a socket unit would and returns
// it with its port.
func systemdSocket(t *testing.T) (*os.File, int) {
	t.Helper()
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	assert.NilError(t, err)
	f, err := l.File()
	assert.NilError(t, err)
	l.Close() // f keeps the socket
	t.Cleanup(func() { f.Close() })
	return f, l.Addr().(*net.TCPAddr).Port
}

// TestSocketActivationRestart: natsd serves on the socket systemd passed
// (its history says so), and a restart — stop, then start again on the
// same socket, as `systemctl restart` does with natsd.socket — refuses no
// connection: the ones made meanwhile wait in the socket's queue and get
// the new natsd's INFO.
func TestSocketActivationRestart(t *testing.T) {
	sock, port := systemdSocket(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	first := activated(t, sock, "natsd.socket", "-p", strconv.Itoa(port))
	first.waitFile(first.portsFile())
	first.waitLog("Server is ready")
	out := first.out.String()
	assert.Assert(t, strings.Contains(out, "Using the client socket "+addr+" inherited from systemd"), out)
	assert.Assert(t, strings.Contains(out, "(event start, cause: inherited sockets from systemd)"), out)
	nc, err := nats.Connect("nats://"+addr, nats.NoReconnect())
	assert.NilError(t, err)
	nc.Close()

	probe := probeClients(addr)
	time.Sleep(20 * time.Millisecond) // let the prober dial the first natsd (pacing)
	first.signal(syscall.SIGTERM)
	assert.Equal(t, first.wait(), 0)
	first.assertNoFiles()
	second := activated(t, sock, "client", "-p", strconv.Itoa(port))
	second.waitLog("Server is ready")
	time.Sleep(20 * time.Millisecond) // and the second (pacing)
	probe.finish(t, "client dials across the restart")
	second.signal(syscall.SIGTERM)
	assert.Equal(t, second.wait(), 0)
}

// TestSocketActivationMismatch: a socket the configuration has no
// listener for, or one on another port, is an error naming it: natsd fails
// closed rather than serve elsewhere than systemd was told.
func TestSocketActivationMismatch(t *testing.T) {
	sock, port := systemdSocket(t)
	for _, tc := range []struct {
		name, fdName string
		args         []string
		want         string
	}{
		{"unused socket", "http", []string{"-p", "-1"}, "natsd: systemd passed socket(s) natsd does not use: http"},
		{"another port", "client", []string{"-p", strconv.Itoa(port + 1)}, "natsd: the client socket from systemd listens on 127.0.0.1:" + strconv.Itoa(port) + ", but the configured port is " + strconv.Itoa(port+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := activated(t, sock, tc.fdName, tc.args...)
			assert.Equal(t, p.wait(), 1)
			assert.Assert(t, strings.Contains(p.out.String(), tc.want), p.out.String())
			p.assertNoFiles()
		})
	}
}
