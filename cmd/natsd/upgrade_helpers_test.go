package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// The upgrade tests follow one natsd through upgrades: the first process
// is the test's child; each later one is started by the natsd it
// replaces and, once that one has exited, becomes the test's child too
// (the test process is a subreaper), so the test reaps every process of
// the lineage and kills, at the end, only those.

var subreaper sync.Once

// becomeSubreaper makes orphaned descendants of the test process its
// children (PR_SET_CHILD_SUBREAPER), so that the test can reap them.
func becomeSubreaper(t *testing.T) {
	subreaper.Do(func() {
		const prSetChildSubreaper = 36
		if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
			t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
		}
	})
}

// upgradable is a natsd started from the test's own copy of the binary, so
// that the test can install another file at that path, as an operator
// installs a new natsd. Its output goes to a file: every process of the
// lineage writes there (a pipe would keep exec's Wait waiting for them).
type upgradable struct {
	t       *testing.T
	root    string // everything of this natsd, below
	bin     string // the path natsd re-runs
	dir     string // PID file and ports files only
	pidFile string
	logFile string
	conf    string

	first     *exec.Cmd
	firstDone chan struct{}
	firstErr  error

	mu   sync.Mutex
	pids map[int]bool // every process of the lineage seen
}

// startUpgradable writes conf (if not empty) as the config file and
// starts natsd with it, a random client port, a PID file and a ports
// file dir, plus args; it waits for the ports file.
func startUpgradable(t *testing.T, conf string, args ...string) *upgradable {
	t.Helper()
	becomeSubreaper(t)
	root := t.TempDir()
	u := &upgradable{
		t:         t,
		root:      root,
		bin:       filepath.Join(root, "bin", "natsd"),
		dir:       filepath.Join(root, "run"),
		logFile:   filepath.Join(root, "natsd.log"),
		conf:      filepath.Join(root, "natsd.conf"),
		firstDone: make(chan struct{}),
		pids:      map[int]bool{},
	}
	u.pidFile = filepath.Join(u.dir, "natsd.pid")
	assert.NilError(t, os.MkdirAll(filepath.Dir(u.bin), 0o755))
	assert.NilError(t, os.MkdirAll(u.dir, 0o755))
	u.install(natsdBin)
	assert.NilError(t, os.WriteFile(u.conf, []byte(conf), 0o644))
	out, err := os.Create(u.logFile)
	assert.NilError(t, err)
	defer out.Close()
	u.first = exec.Command(u.bin, append([]string{"-c", u.conf, "-a", "127.0.0.1", "-p", "-1", "-P", u.pidFile, "--ports_file_dir", u.dir}, args...)...)
	u.first.Stdout, u.first.Stderr = out, out
	assert.NilError(t, u.first.Start())
	u.saw(u.first.Process.Pid)
	go func() {
		u.firstErr = u.first.Wait()
		close(u.firstDone)
	}()
	t.Cleanup(u.cleanup)
	u.waitReady(u.first.Process.Pid)
	return u
}

// install puts a copy of the file at src where natsd re-runs itself.
func (u *upgradable) install(src string) {
	u.t.Helper()
	b, err := os.ReadFile(src)
	assert.NilError(u.t, err)
	tmp := u.bin + ".new"
	assert.NilError(u.t, os.WriteFile(tmp, b, 0o755))
	assert.NilError(u.t, os.Rename(tmp, u.bin))
}

// installScript puts a shell script where natsd re-runs itself.
func (u *upgradable) installScript(body string) {
	u.t.Helper()
	tmp := u.bin + ".new"
	assert.NilError(u.t, os.WriteFile(tmp, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	assert.NilError(u.t, os.Rename(tmp, u.bin))
}

func (u *upgradable) saw(pid int) {
	u.mu.Lock()
	u.pids[pid] = true
	u.mu.Unlock()
}

// log returns the output of every process of the lineage so far.
func (u *upgradable) log() string {
	b, _ := os.ReadFile(u.logFile)
	return string(b)
}

// pid reads the PID file.
func (u *upgradable) pid() int {
	u.t.Helper()
	b, err := os.ReadFile(u.pidFile)
	assert.NilError(u.t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	assert.NilError(u.t, err)
	u.saw(pid)
	return pid
}

func (u *upgradable) portsFile(pid int) string {
	return filepath.Join(u.dir, fmt.Sprintf("natsd_%d.ports", pid))
}

// waitReady waits for the ports file of pid.
func (u *upgradable) waitReady(pid int) {
	u.t.Helper()
	poll.WaitOn(u.t, func(poll.LogT) poll.Result {
		if _, err := os.Stat(u.portsFile(pid)); err == nil {
			return poll.Success()
		}
		if pid == u.first.Process.Pid {
			select {
			case <-u.firstDone:
				return poll.Error(fmt.Errorf("natsd exited: %v\n%s", u.firstErr, u.log()))
			default:
			}
		}
		return poll.Continue("waiting for the ports file of PID %d", pid)
	}, poll.WithDelay(5*time.Millisecond), poll.WithTimeout(20*time.Second))
}

// ports reads the ports file of pid.
func (u *upgradable) ports(pid int) (p struct{ Nats, Monitoring []string }) {
	u.t.Helper()
	b, err := os.ReadFile(u.portsFile(pid))
	assert.NilError(u.t, err)
	assert.NilError(u.t, json.Unmarshal(b, &p))
	return p
}

// clientAddr is host:port of the client listener of pid.
func (u *upgradable) clientAddr(pid int) string {
	return strings.TrimPrefix(u.ports(pid).Nats[0], "nats://")
}

// signal runs `natsd --signal cmd=PIDFILE` and returns its exit code and
// output.
func (u *upgradable) signal(cmd string) (int, string) {
	u.t.Helper()
	return runNatsd(u.t, "--signal", cmd+"="+u.pidFile)
}

// upgrade runs `natsd --signal upgrade=PIDFILE`, which must succeed, and
// returns the new PID.
func (u *upgradable) upgrade() int {
	u.t.Helper()
	old := u.pid()
	code, out := u.signal("upgrade")
	assert.Equal(u.t, code, 0, "%s\n%s", out, u.log())
	pid := u.pid()
	assert.Assert(u.t, pid != old)
	assert.Equal(u.t, strings.TrimSpace(out), fmt.Sprintf("natsd: upgraded: PID %d handed over to PID %d", old, pid))
	return pid
}

// waitExit waits for pid, a process of the lineage, to exit and returns
// its exit code.
func (u *upgradable) waitExit(pid int, timeout time.Duration) int {
	u.t.Helper()
	if pid == u.first.Process.Pid {
		select {
		case <-u.firstDone:
		case <-time.After(timeout):
			u.t.Fatalf("PID %d did not exit within %v\n%s", pid, timeout, u.log())
		}
		var ee *exec.ExitError
		if errors.As(u.firstErr, &ee) {
			return ee.ExitCode()
		}
		assert.NilError(u.t, u.firstErr)
		return 0
	}
	deadline := time.Now().Add(timeout)
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		switch {
		case err == nil && got == pid:
			if ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ws.ExitStatus()
		case err != nil && !errors.Is(err, syscall.ECHILD):
			u.t.Fatalf("wait4 %d: %v", pid, err)
		}
		// ECHILD: its parent still runs; or not exited yet.
		if time.Now().After(deadline) {
			u.t.Fatalf("PID %d did not exit within %v\n%s", pid, timeout, u.log())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// childrenOf lists the running processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 2 && f[2] == strconv.Itoa(pid) && f[0] != "Z" {
			out = append(out, p)
		}
	}
	return out
}

// cleanup kills what is left of the lineage (processes running from this
// test's directory only) and reaps it.
func (u *upgradable) cleanup() {
	u.mu.Lock()
	pids := make([]int, 0, len(u.pids))
	for p := range u.pids {
		pids = append(pids, p)
	}
	u.mu.Unlock()
	for _, p := range pids {
		if p == u.first.Process.Pid {
			select {
			case <-u.firstDone:
			default:
				u.first.Process.Kill()
				<-u.firstDone
			}
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		if err != nil || !strings.Contains(string(cmdline), u.root) {
			continue
		}
		syscall.Kill(p, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(p, &ws, 0, nil)
	}
	if u.t.Failed() {
		u.t.Logf("natsd output:\n%s", u.log())
	}
}

// prober dials a port every millisecond, as a client would, and counts
// what each dial got: an INFO line, a refusal, or anything else.
type prober struct {
	stop, done chan struct{}
	ok         atomic.Int64
	refused    atomic.Int64
	failed     atomic.Int64 // any other dial, read or HTTP error, or a non-200
	mu         sync.Mutex
	errs       []string // the first few failures
}

func (p *prober) fail(refused bool, format string, args ...any) {
	if refused {
		p.refused.Add(1)
	} else {
		p.failed.Add(1)
	}
	p.mu.Lock()
	if len(p.errs) < 5 {
		p.errs = append(p.errs, fmt.Sprintf(format, args...))
	}
	p.mu.Unlock()
}

func (p *prober) run(once func()) *prober {
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			once()
			time.Sleep(time.Millisecond)
		}
	}()
	return p
}

// probeClients dials addr every millisecond and reads the INFO.
func probeClients(addr string) *prober {
	p := &prober{}
	return p.run(func() {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			p.fail(errors.Is(err, syscall.ECONNREFUSED), "dial: %v", err)
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "INFO {") {
			p.fail(false, "read INFO: %q, %v", line, err)
			return
		}
		p.ok.Add(1)
	})
}

// probeHealthz asks url for /healthz every millisecond, each time on a new
// connection.
func probeHealthz(url string) *prober {
	p := &prober{}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	return p.run(func() {
		resp, err := client.Get(url + "/healthz")
		if err != nil {
			p.fail(errors.Is(err, syscall.ECONNREFUSED), "GET /healthz: %v", err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			p.fail(false, "GET /healthz: %s", resp.Status)
			return
		}
		p.ok.Add(1)
	})
}

// finish stops the prober and checks that every probe succeeded.
func (p *prober) finish(t *testing.T, what string) {
	t.Helper()
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Logf("%s: %d answered, %d refused, %d failed otherwise", what, p.ok.Load(), p.refused.Load(), p.failed.Load())
	assert.Equal(t, p.refused.Load(), int64(0), "%s refused: %v", what, p.errs)
	assert.Equal(t, p.failed.Load(), int64(0), "%s failed: %v", what, p.errs)
	assert.Assert(t, p.ok.Load() > 0)
}
