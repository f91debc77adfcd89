package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// proc is a natsd process started by a test.
type proc struct {
	t       *testing.T
	bin     string // the binary it runs
	cmd     *exec.Cmd
	dir     string
	pidFile string
	out     *syncBuffer
	exited  chan struct{}
	err     error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startNatsdPlain runs natsd with exactly args, without waiting for
// anything.
func startNatsdPlain(t *testing.T, args ...string) *proc {
	t.Helper()
	return startBinPlain(t, natsdBin, args...)
}

// startBinPlain runs the natsd binary at bin with exactly args.
func startBinPlain(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, bin: bin, dir: t.TempDir(), out: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
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

// waitFile waits until path exists.
func (p *proc) waitFile(path string) {
	p.t.Helper()
	poll.WaitOn(p.t, func(poll.LogT) poll.Result {
		if _, err := os.Stat(path); err == nil {
			return poll.Success()
		}
		return poll.Continue("waiting for %s", path)
	}, poll.WithDelay(5*time.Millisecond), poll.WithTimeout(20*time.Second))
}

// waitLogFile waits until the file at path contains s.
func (p *proc) waitLogFile(path, s string) {
	p.t.Helper()
	poll.WaitOn(p.t, func(poll.LogT) poll.Result {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), s) {
			return poll.Success()
		}
		return poll.Continue("waiting for %q in %s", s, path)
	}, poll.WithDelay(time.Millisecond), poll.WithTimeout(20*time.Second))
}

// startNatsd runs natsd with a random port, a PID file and a ports file in
// a temp dir (plus args) and waits until the ports file exists.
func startNatsd(t *testing.T, args ...string) *proc {
	t.Helper()
	return startBin(t, natsdBin, args...)
}

// startBin is [startNatsd] with the natsd binary at bin.
func startBin(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "natsd.pid")
	p := startBinPlain(t, bin, append([]string{"-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", dir, "-P", pidFile}, args...)...)
	p.dir, p.pidFile = dir, pidFile
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		select {
		case <-p.exited:
			return poll.Error(fmt.Errorf("natsd exited: %v\n%s", p.err, p.out.String()))
		default:
		}
		if _, err := os.Stat(p.portsFile()); err == nil {
			return poll.Success()
		}
		return poll.Continue("waiting for the ports file")
	}, poll.WithDelay(5*time.Millisecond), poll.WithTimeout(20*time.Second))
	return p
}

func (p *proc) portsFile() string {
	return filepath.Join(p.dir, fmt.Sprintf("%s_%d.ports", filepath.Base(p.bin), p.cmd.Process.Pid))
}

// url reads the client URL from the ports file.
func (p *proc) url() string {
	p.t.Helper()
	b, err := os.ReadFile(p.portsFile())
	assert.NilError(p.t, err)
	var ports struct{ Nats []string }
	assert.NilError(p.t, json.Unmarshal(b, &ports))
	assert.Assert(p.t, len(ports.Nats) == 1, string(b))
	return ports.Nats[0]
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	assert.NilError(p.t, p.cmd.Process.Signal(sig))
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		p.t.Fatalf("natsd did not exit\n%s", p.out.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	assert.NilError(p.t, p.err)
	return 0
}

// waitLog waits until the output contains s.
func (p *proc) waitLog(s string) {
	p.t.Helper()
	poll.WaitOn(p.t, func(poll.LogT) poll.Result {
		if strings.Contains(p.out.String(), s) {
			return poll.Success()
		}
		return poll.Continue("waiting for %q in the log", s)
	}, poll.WithDelay(5*time.Millisecond), poll.WithTimeout(20*time.Second))
}

// assertNoFiles checks the PID and ports files are gone.
func (p *proc) assertNoFiles() {
	p.t.Helper()
	entries, err := os.ReadDir(p.dir)
	assert.NilError(p.t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(p.t, len(names), 0, "left behind: %v", names)
}

// runNatsd runs natsd to completion and returns its exit code and output.
func runNatsd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return runBin(t, natsdBin, args...)
}

// runBin is [runNatsd] with the natsd binary at bin.
func runBin(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	assert.NilError(t, err)
	return 0, string(out)
}

func TestSignalsShutDownGracefully(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT} {
		t.Run(signalName(sig), func(t *testing.T) {
			p := startNatsd(t)
			b, err := os.ReadFile(p.pidFile)
			assert.NilError(t, err)
			assert.Equal(t, string(b), strconv.Itoa(p.cmd.Process.Pid))
			closed := make(chan struct{})
			nc, err := nats.Connect(p.url(), nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
			assert.NilError(t, err)
			defer nc.Close()
			p.signal(sig)
			assert.Equal(t, p.wait(), 0)
			<-closed
			p.assertNoFiles()
			assert.Assert(t, strings.Contains(p.out.String(), "listening -> shutting_down (event shutdown, cause: signal "+signalName(sig)+")"), p.out.String())
		})
	}
}

// TestSignalLameDuckDrainsClients is the "done when": natsd -p -1
// --ports_file_dir DIR -P DIR/natsd.pid, then natsd --signal ldm=PIDFILE
// drains the connected clients and exits 0 with both files gone.
func TestSignalLameDuckDrainsClients(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "natsd.conf")
	assert.NilError(t, os.WriteFile(conf, []byte("lame_duck_duration: \"2s\"\nlame_duck_grace_period: \"200ms\"\n"), 0o644))
	p := startNatsd(t, "-c", conf)
	var ldm, closed sync.WaitGroup
	for range 10 {
		ldm.Add(1)
		closed.Add(1)
		var once sync.Once
		nc, err := nats.Connect(p.url(), nats.NoReconnect(),
			nats.LameDuckModeHandler(func(*nats.Conn) { once.Do(ldm.Done) }),
			nats.ClosedHandler(func(*nats.Conn) { closed.Done() }))
		assert.NilError(t, err)
		defer nc.Close()
		_, err = nc.SubscribeSync("x")
		assert.NilError(t, err)
		assert.NilError(t, nc.Flush())
	}
	code, out := runNatsd(t, "--signal", "ldm="+p.pidFile)
	assert.Equal(t, code, 0, out)
	ldm.Wait()
	assert.Equal(t, p.wait(), 0)
	closed.Wait()
	p.assertNoFiles()
	log := p.out.String()
	assert.Assert(t, strings.Contains(log, "listening -> lame_duck"), log)
	assert.Assert(t, strings.Contains(log, "lame_duck -> shutting_down (event shutdown, cause: lame duck drain complete)"), log)
}

func TestSigtermIgnoredInLameDuckSigintStops(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "natsd.conf")
	assert.NilError(t, os.WriteFile(conf, []byte("lame_duck_duration: \"1h\"\nlame_duck_grace_period: \"30m\"\n"), 0o644))
	p := startNatsd(t, "-c", conf)
	nc, err := nats.Connect(p.url(), nats.NoReconnect())
	assert.NilError(t, err)
	defer nc.Close()
	assert.NilError(t, nc.Flush())
	p.signal(syscall.SIGUSR2)
	p.waitLog("listening -> lame_duck")
	p.signal(syscall.SIGTERM)
	p.waitLog("SIGTERM in lame duck mode: ignored")
	p.signal(syscall.SIGINT)
	assert.Equal(t, p.wait(), 0)
	p.assertNoFiles()
}

func TestBindFailureIsOneLineAndExit1(t *testing.T) {
	p := startNatsd(t)
	port := strings.TrimPrefix(p.url(), "nats://127.0.0.1:")
	dir := t.TempDir()
	code, out := runNatsd(t, "-a", "127.0.0.1", "-p", port, "-P", filepath.Join(dir, "pid"), "--ports_file_dir", dir)
	assert.Equal(t, code, 1, out)
	assert.Assert(t, strings.Contains(out, "natsd: listen tcp 127.0.0.1:"+port+": bind: address already in use\n"), out)
	assert.Assert(t, !strings.Contains(out, "goroutine "), "stack trace printed:\n%s", out)
	entries, _ := os.ReadDir(dir)
	assert.Equal(t, len(entries), 0)
	p.signal(syscall.SIGTERM)
	assert.Equal(t, p.wait(), 0)

	// An address that is not one is named once, with the lookup's reason.
	code, out = runNatsd(t, "-a", "999.1.1.1", "-p", "4222")
	assert.Equal(t, code, 1, out)
	assert.Assert(t, strings.HasSuffix(out, "natsd: listen tcp 999.1.1.1:4222: lookup failed: no such host\n"), out)
	assert.Equal(t, strings.Count(out, "999.1.1.1"), 2, "the start log names it once, the error once:\n%s", out)
}

// TestSignalFindsTheRunningNatsd: --signal without a PID finds the single
// running natsd through /proc; with several it lists their PIDs and
// refuses; a trailing * selects them all.
//
// --signal finds processes by its own program name, so the test runs a
// copy of natsd under a name no other process has: it can reach only the
// processes it started. A natsd named natsd beside them (an operator's
// `make run`) is not touched, not even by term=*.
func TestSignalFindsTheRunningNatsd(t *testing.T) {
	bin := uniqueNatsd(t)
	bystander := startNatsd(t)
	a := startBin(t, bin)
	code, out := runBin(t, bin, "--signal", "reopen")
	assert.Equal(t, code, 0, out)
	assert.Equal(t, out, "natsd: sent reopen to PID "+strconv.Itoa(a.cmd.Process.Pid)+"\n")
	b := startBin(t, bin)
	code, out = runBin(t, bin, "--signal", "reopen")
	assert.Equal(t, code, 1, out)
	for _, p := range []*proc{a, b} {
		assert.Assert(t, strings.Contains(out, strconv.Itoa(p.cmd.Process.Pid)), "PID %d not listed: %s", p.cmd.Process.Pid, out)
	}
	assert.Assert(t, !strings.Contains(out, strconv.Itoa(bystander.cmd.Process.Pid)), "the bystander was found: %s", out)
	assert.Assert(t, strings.Contains(out, "multiple "+filepath.Base(bin)+" processes running"), out)
	code, out = runBin(t, bin, "--signal", "term=*")
	assert.Equal(t, code, 0, out)
	assert.Equal(t, a.wait(), 0)
	assert.Equal(t, b.wait(), 0)

	select {
	case <-bystander.exited:
		t.Fatalf("the bystander natsd exited: %v\n%s", bystander.err, bystander.out.String())
	default:
	}
	nc, err := nats.Connect(bystander.url(), nats.NoReconnect())
	assert.NilError(t, err, "the bystander natsd stopped serving")
	nc.Close()
	bystander.signal(syscall.SIGTERM)
	assert.Equal(t, bystander.wait(), 0)
}

// uniqueNatsd returns the path of a link to the natsd binary under a name
// that only this test uses (natsd-<pid>-<test>), so that --signal run from
// it looks for processes of that name alone.
func uniqueNatsd(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("natsd-%d-%x", os.Getpid(), time.Now().UnixNano())
	path := filepath.Join(t.TempDir(), name)
	assert.NilError(t, os.Symlink(natsdBin, path))
	return path
}
