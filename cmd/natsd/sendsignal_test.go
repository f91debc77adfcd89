package main

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
)

// fakeProcesses is a process table made by the test: sendSignal finds and
// signals only what it lists, so no test can reach a process of the
// machine through it.
type fakeProcesses struct {
	byName map[string][]int
	sent   []string // "PID SIGNAL", in order
}

func (f *fakeProcesses) Find(name string) ([]int, error) { return f.byName[name], nil }

func (f *fakeProcesses) Signal(pid int, sig syscall.Signal) error {
	f.sent = append(f.sent, strconv.Itoa(pid)+" "+signalName(sig))
	return nil
}

// TestSendSignalFindsTheRunningNatsd: --signal without a PID signals the
// single running natsd; with several it refuses naming them; a trailing *
// selects them all, or those whose PID starts with the prefix; a PID or a
// PID file names one directly.
func TestSendSignalFindsTheRunningNatsd(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "natsd.pid")
	assert.NilError(t, os.WriteFile(pidFile, []byte("4321\n"), 0o600))
	one := map[string][]int{"natsd": {1200}, "nats-server": {77}}
	three := map[string][]int{"natsd": {1200, 1234, 5678}}
	cases := []struct {
		name     string
		procs    map[string][]int
		arg      string
		wantMsg  string
		wantErr  string
		wantSent []string
	}{
		{"the single one", one, "reopen", "sent reopen to PID 1200", "", []string{"1200 SIGUSR1"}},
		{"none running", map[string][]int{"nats-server": {77}}, "reload", "", "no natsd process is running", nil},
		{"several refused", three, "term", "", "multiple natsd processes running (PIDs 1200, 1234, 5678): name one with --signal term=PID, or use term=* for all", nil},
		{"all of them", three, "term=*", "sent term to PID 1200, 1234, 5678", "", []string{"1200 SIGTERM", "1234 SIGTERM", "5678 SIGTERM"}},
		{"by prefix", three, "quit=12*", "sent quit to PID 1200, 1234", "", []string{"1200 SIGINT", "1234 SIGINT"}},
		{"prefix matches none", three, "quit=9*", "", "no natsd process is running", nil},
		{"by PID", three, "ldm=5678", "sent ldm to PID 5678", "", []string{"5678 SIGUSR2"}},
		{"upgrade by PID", three, "upgrade=5678", "sent upgrade to PID 5678", "", []string{"5678 SIGTTIN"}},
		{"by PID file", nil, "reload=" + pidFile, "sent reload to PID 4321", "", []string{"4321 SIGHUP"}},
		{"bad PID", nil, "stop=0", "", "invalid PID 0", nil},
		{"unknown command", one, "explode", "", `unknown signal command "explode"`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			procs := &fakeProcesses{byName: tc.procs}
			msg, err := sendSignal(tc.arg, "natsd", procs)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
			} else {
				assert.NilError(t, err)
				assert.Equal(t, msg, tc.wantMsg)
			}
			assert.DeepEqual(t, procs.sent, tc.wantSent)
		})
	}
}

// answeringProcesses is a fake natsd that answers an upgrade signal as
// natsd does, by leaving answer beside its PID file; with answer "" it
// exits instead.
type answeringProcesses struct {
	fakeProcesses
	pidFile, answer string
	gone            bool
}

func (a *answeringProcesses) Signal(pid int, sig syscall.Signal) error {
	if sig == 0 {
		if a.gone {
			return syscall.ESRCH
		}
		return nil
	}
	a.fakeProcesses.Signal(pid, sig)
	if a.answer == "" {
		a.gone = true
		return nil
	}
	return writeAnswer(upgradeAnswerFile(a.pidFile), a.answer)
}

// TestSignalUpgradeWaitsForTheAnswer: --signal upgrade=PIDFILE returns
// natsd's answer, an error unless it upgraded, removes it once read, and
// ignores a stale one left from before.
func TestSignalUpgradeWaitsForTheAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, answer, wantMsg, wantErr string
	}{
		{"upgraded", "upgraded: PID 4321 handed over to PID 4400", "upgraded: PID 4321 handed over to PID 4400", ""},
		{"failed", "upgrade failed: new process (PID 4400): config file x.conf: bad", "", "upgrade failed: new process (PID 4400): config file x.conf: bad"},
		{"refused", "upgrade refused: the server is lame_duck", "", "upgrade refused: the server is lame_duck"},
		{"exits", "", "", "PID 4321 exited without answering the upgrade; see its log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "natsd.pid")
			assert.NilError(t, os.WriteFile(pidFile, []byte("4321\n"), 0o600))
			assert.NilError(t, writeAnswer(upgradeAnswerFile(pidFile), "upgraded: a stale answer"))
			procs := &answeringProcesses{pidFile: pidFile, answer: tc.answer}
			msg, err := sendSignal("upgrade="+pidFile, "natsd", procs)
			if tc.wantErr != "" {
				assert.Error(t, err, tc.wantErr)
			} else {
				assert.NilError(t, err)
				assert.Equal(t, msg, tc.wantMsg)
			}
			assert.DeepEqual(t, procs.sent, []string{"4321 SIGTTIN"})
			_, err = os.Stat(upgradeAnswerFile(pidFile))
			assert.Assert(t, os.IsNotExist(err), "the answer was left behind")
		})
	}
}

// TestProcFSFind reads a /proc tree the test writes: processes are found
// by the base name of argv[0], never this process, and entries without a
// command line (kernel threads) or that are not PIDs are skipped.
func TestProcFSFind(t *testing.T) {
	root := t.TempDir()
	write := func(pid, cmdline string) {
		assert.NilError(t, os.MkdirAll(filepath.Join(root, pid), 0o755))
		if cmdline != "" {
			assert.NilError(t, os.WriteFile(filepath.Join(root, pid, "cmdline"), []byte(cmdline), 0o644))
		}
	}
	write("100", "/usr/local/bin/natsd\x00-c\x00/etc/natsd.conf\x00")
	write("20", "natsd\x00")
	write("300", "/usr/bin/nats-server\x00")
	write("400", "")                          // a kernel thread
	write("500", "/usr/bin/natsd-helper\x00") // another name
	write("600", "/opt/natsd\x00")            // this process
	write("self", "/usr/local/bin/natsd\x00")
	got, err := procFS{root: root, self: 600}.Find("natsd")
	assert.NilError(t, err)
	assert.DeepEqual(t, got, []int{20, 100})

	_, err = procFS{root: filepath.Join(root, "missing")}.Find("natsd")
	assert.ErrorContains(t, err, "list processes")
}
