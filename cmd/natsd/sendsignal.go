package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// signalCommands maps the --signal commands to signals, as nats-server,
// plus natsd's upgrade.
var signalCommands = map[string]syscall.Signal{
	"ldm":     syscall.SIGUSR2,
	"stop":    syscall.SIGKILL,
	"quit":    syscall.SIGINT,
	"term":    syscall.SIGTERM,
	"reopen":  syscall.SIGUSR1,
	"reload":  syscall.SIGHUP,
	"upgrade": upgradeSignal,
}

// sendSignal runs `natsd --signal CMD[=PID|PIDFILE]`: it sends the signal to
// the given process, or to the single running natsd, as procs finds it by
// progName. Several running is an error listing their PIDs; a trailing *
// makes the PID a prefix ("=*" selects every running natsd), as in
// nats-server.
//
// For upgrade with a PID file, it then waits for the upgrade's outcome,
// which natsd leaves beside its PID file, and returns it: the new PID, or
// the error (the new process's, or the refusal naming the state).
func sendSignal(arg string, progName string, procs processTable) (string, error) {
	cmd, target, _ := strings.Cut(arg, "=")
	sig, ok := signalCommands[cmd]
	if !ok {
		return "", fmt.Errorf("unknown signal command %q (want ldm, stop, quit, term, reopen, reload or upgrade)", cmd)
	}
	glob := strings.HasSuffix(target, "*")
	prefix := strings.TrimSuffix(target, "*")
	var pids []int
	pidFile := ""
	if prefix != "" && !glob {
		pid, err := resolvePid(prefix)
		if err != nil {
			return "", err
		}
		pids = []int{pid}
		if _, err := strconv.Atoi(prefix); err != nil {
			pidFile = prefix
		}
	} else {
		found, err := procs.Find(progName)
		if err != nil {
			return "", err
		}
		for _, pid := range found {
			if strings.HasPrefix(strconv.Itoa(pid), prefix) {
				pids = append(pids, pid)
			}
		}
		switch {
		case len(pids) == 0:
			return "", fmt.Errorf("no %s process is running", progName)
		case len(pids) > 1 && !glob:
			return "", fmt.Errorf("multiple %s processes running (PIDs %s): name one with --signal %s=PID, or use %s=* for all", progName, joinInts(pids), cmd, cmd)
		}
	}
	if cmd == "upgrade" && pidFile != "" {
		os.Remove(upgradeAnswerFile(pidFile)) // a stale answer, never read
		if err := procs.Signal(pids[0], sig); err != nil {
			return "", fmt.Errorf("signal %s to PID %d: %w", cmd, pids[0], err)
		}
		return awaitUpgrade(pidFile, pids[0], procs)
	}
	var errs []error
	for _, pid := range pids {
		if err := procs.Signal(pid, sig); err != nil {
			errs = append(errs, fmt.Errorf("signal %s to PID %d: %w", cmd, pid, err))
		}
	}
	return fmt.Sprintf("sent %s to PID %s", cmd, joinInts(pids)), errors.Join(errs...)
}

// resolvePid reads target as a PID, or as a PID file.
func resolvePid(target string) (int, error) {
	if pid, err := strconv.Atoi(target); err == nil {
		if pid <= 0 {
			return 0, fmt.Errorf("invalid PID %d", pid)
		}
		return pid, nil
	}
	b, err := os.ReadFile(target)
	if err != nil {
		return 0, fmt.Errorf("read pid file %s: %w", target, unwrapPath(err))
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s does not hold a PID", target)
	}
	return pid, nil
}

// processTable is what --signal needs from the operating system: the
// running processes by executable name, and a way to signal one. It is a
// seam so that the lookup is tested on a table the test makes, never on
// the processes of the machine.
type processTable interface {
	// Find lists the PIDs of running processes, other than this one,
	// whose executable name (the base name of argv[0]) is name, in
	// increasing order.
	Find(name string) ([]int, error)
	// Signal sends sig to pid.
	Signal(pid int, sig syscall.Signal) error
}

// procFS is the process table of a Linux /proc file system mounted at
// root ("/proc").
type procFS struct {
	root string
	self int // this process, never listed
}

// systemProcesses is the process table of this machine.
func systemProcesses() procFS { return procFS{root: "/proc", self: os.Getpid()} }

func (p procFS) Find(name string) ([]int, error) {
	entries, err := os.ReadDir(p.root)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == p.self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(p.root, e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		arg0, _, _ := strings.Cut(string(cmdline), "\x00")
		if filepath.Base(arg0) == name {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

func (procFS) Signal(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
