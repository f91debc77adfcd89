package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/natsd/natsd/internal/soak"
	"github.com/natsd/natsd/lifecycle"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// Helpers of the reliability suites (scale, load, chaos, faults).

var soakBin struct {
	once sync.Once
	path string
	err  error
}

// prepareNatsd readies the natsd processes this test starts: the -race
// binary exits without the race runtime's one-second pause (so exit times
// are natsd's own), and under NATSD_SOAK=1 a natsd built without -race is
// run instead, so that the soak figures (RSS, shutdown time) are those of
// the binary people run.
func prepareNatsd(t *testing.T) {
	t.Helper()
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	if !soak.Enabled() {
		return
	}
	soakBin.once.Do(func() {
		// Named natsd, like the real one: the ports file and --signal use
		// the program name.
		soakBin.path = filepath.Join(filepath.Dir(natsdBin), "norace", "natsd")
		build := exec.Command("go", "build", "-o", soakBin.path, ".")
		out, err := build.CombinedOutput()
		if err != nil {
			soakBin.err = fmt.Errorf("build natsd without -race: %v\n%s", err, out)
		}
	})
	assert.NilError(t, soakBin.err)
	old := natsdBin
	natsdBin = soakBin.path
	t.Cleanup(func() { natsdBin = old })
}

// writeConf writes a config file in a temp dir and returns its path.
func writeConf(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "natsd.conf")
	assert.NilError(t, os.WriteFile(path, []byte(body), 0o644))
	return path
}

// ports reads the process's ports file.
func (p *proc) ports() lifecycle.Ports {
	p.t.Helper()
	b, err := os.ReadFile(p.portsFile())
	assert.NilError(p.t, err)
	var ports lifecycle.Ports
	assert.NilError(p.t, json.Unmarshal(b, &ports))
	return ports
}

// addr is the client listener's host:port.
func (p *proc) addr() string { return strings.TrimPrefix(p.url(), "nats://") }

func (p *proc) pid() int { return p.cmd.Process.Pid }

// goroutines reads the process's goroutine count from its profiling port
// (started with --profile -1).
func (p *proc) goroutines() int {
	p.t.Helper()
	ports := p.ports()
	assert.Assert(p.t, len(ports.Profile) > 0, "natsd was started without --profile")
	resp, err := http.Get(ports.Profile[0] + "/debug/pprof/goroutine?debug=1")
	assert.NilError(p.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	assert.NilError(p.t, err)
	var n int
	_, err = fmt.Sscanf(string(b), "goroutine profile: total %d", &n)
	assert.NilError(p.t, err, "%.200s", b)
	return n
}

// maxRSSKiB is the exited process's peak resident set.
func (p *proc) maxRSSKiB() int64 {
	if p.cmd.ProcessState == nil {
		return -1
	}
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return -1
}

// exitedWithin waits up to d for the process to exit and reports whether
// it did.
func (p *proc) exitedWithin(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// exitCode returns the exit code of the exited process, -1 for killed by
// a signal (p.err then names it).
func (p *proc) exitCode() int {
	<-p.exited
	if p.cmd.ProcessState == nil {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// waitText waits until read() contains s.
func waitText(t *testing.T, what string, read func() string, s string) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if strings.Contains(read(), s) {
			return poll.Success()
		}
		return poll.Continue("waiting for %q in %s", s, what)
	}, poll.WithDelay(2*time.Millisecond), poll.WithTimeout(20*time.Second))
}

// readFile returns the file's content, or "" if it cannot be read.
func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// transition is one "Server state A -> B (event E, cause: C)" log line.
type transition struct{ from, to, event, cause string }

var transitionLine = regexp.MustCompile(`Server state (\S+) -> (\S+) \(event (\S+), cause: (.*)\)`)

// transitions parses the server's transition lines out of a log.
func transitions(log string) []transition {
	var out []transition
	for _, m := range transitionLine.FindAllStringSubmatch(log, -1) {
		out = append(out, transition{m[1], m[2], m[3], strings.TrimSpace(m[4])})
	}
	return out
}

// checkTransitions requires the log's transitions to be a walk of the
// declared lifecycle.Machine from init: each one allowed by Machine.Next
// from where the previous one ended. It returns the states visited.
func checkTransitions(t *testing.T, log string) []string {
	t.Helper()
	trs := transitions(log)
	assert.Assert(t, len(trs) > 0, "no state transition logged")
	states := []string{trs[0].from}
	assert.Equal(t, trs[0].from, lifecycle.Init.String())
	for i, tr := range trs {
		if i > 0 {
			assert.Equal(t, tr.from, trs[i-1].to, "transition %d (%v) does not start where %d ended", i, tr, i-1)
		}
		to, ok := lifecycle.Machine.Next(tr.from, tr.event)
		assert.Assert(t, ok && to == tr.to, "illegal transition %s -%s-> %s (the declaration says %q, %v)", tr.from, tr.event, tr.to, to, ok)
		states = append(states, tr.to)
	}
	return states
}

// panics counts what must never appear in a natsd's output: panics,
// runtime fatal errors, goroutine dumps and data races.
func panics(out string) int {
	n := 0
	for _, s := range []string{"panic:", "fatal error:", "goroutine 1 [", "WARNING: DATA RACE", "SIGQUIT: quit"} {
		n += strings.Count(out, s)
	}
	return n
}

// countLines counts the lines of log that contain s.
func countLines(log, s string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
