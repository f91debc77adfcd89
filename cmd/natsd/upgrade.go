package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/natsd/natsd/internal/handoff"
	"github.com/natsd/natsd/internal/sdnotify"
	"github.com/natsd/natsd/lifecycle"
)

// upgradeSignal asks natsd to upgrade. nats-server has no upgrade signal
// and traps none of SIGTTIN's kind; the kernel sends SIGTTIN only to a
// background process reading its terminal, which natsd never does (unlike
// SIGWINCH, which every terminal resize would send to a natsd run in the
// foreground). nginx's USR2 is natsd's lame duck, as in nats-server.
const upgradeSignal = syscall.SIGTTIN

// startSuccessor starts natsd's own executable (the file now at the path
// natsd was started from) with natsd's arguments, handing it socks. Its
// environment is this process's, plus the service manager's socket, which
// natsd removed from its own environment at start-up.
func startSuccessor(exe string, n *sdnotify.Notifier, socks []lifecycle.Socket) (lifecycle.Successor, error) {
	hs := make([]handoff.Socket, len(socks))
	for i, s := range socks {
		hs[i] = handoff.Socket{Name: s.Name, Listener: s.Listener}
	}
	env := append(os.Environ(), n.Env()...)
	c, err := handoff.Start(exe, os.Args, env, hs)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// upgrade runs one upgrade for a trapped signal and leaves its outcome
// where `natsd --signal upgrade=PIDFILE` waits for it (the server logs
// it).
func (d *daemon) upgrade(cause string) {
	done, err := d.srv.UpgradeCause(cause)
	if err == nil {
		err = <-done
	}
	pidFile := d.srv.Options().PidFile
	if pidFile == "" {
		return
	}
	msg := fmt.Sprintf("upgraded: PID %d handed over to %s", os.Getpid(), pidIn(pidFile))
	if err != nil {
		msg = err.Error()
	}
	if werr := writeAnswer(upgradeAnswerFile(pidFile), msg); werr != nil {
		d.sink.log.Warnf("Writing the upgrade's answer: %v", werr)
	}
}

// pidIn names the PID the PID file holds, for the answer.
func pidIn(pidFile string) string {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return "the new process"
	}
	return "PID " + strings.TrimSpace(string(b))
}

// upgradeAnswerFile is where a natsd with a PID file leaves the outcome of
// an upgrade: beside the PID file, for `natsd --signal upgrade=PIDFILE`,
// which removes it once read.
func upgradeAnswerFile(pidFile string) string { return pidFile + ".upgrade" }

// writeAnswer writes msg to path atomically (0600, as the PID file).
func writeAnswer(path, msg string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, werr := tmp.WriteString(msg + "\n")
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o600)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// upgradeAnswerWait bounds how long `--signal upgrade=PIDFILE` waits for
// the answer (natsd's upgrade_timeout is a minute by default).
var upgradeAnswerWait = 2 * time.Minute

// awaitUpgrade waits for the answer of the natsd with pid to an upgrade
// signal: the file beside pidFile, removed once read. It gives up when the
// process is gone or after upgradeAnswerWait.
func awaitUpgrade(pidFile string, pid int, procs processTable) (string, error) {
	path := upgradeAnswerFile(pidFile)
	deadline := time.Now().Add(upgradeAnswerWait)
	for {
		if b, err := os.ReadFile(path); err == nil {
			os.Remove(path)
			msg := strings.TrimSpace(string(b))
			if strings.HasPrefix(msg, "upgraded: ") {
				return msg, nil
			}
			return "", errors.New(msg)
		}
		if procs.Signal(pid, 0) != nil {
			return "", fmt.Errorf("PID %d exited without answering the upgrade; see its log", pid)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no answer from PID %d within %v; the upgrade may still be under way, see its log", pid, upgradeAnswerWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lastErrLine passes writes through to w and remembers the last line
// written, without a "natsd: " prefix: what a new process of an upgrade
// reports as its error when it exits before being ready.
type lastErrLine struct {
	w    io.Writer
	mu   sync.Mutex
	line string
}

func (l *lastErrLine) Write(p []byte) (int, error) {
	if s := strings.TrimSpace(string(bytes.TrimRight(p, "\n"))); s != "" {
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
		l.mu.Lock()
		l.line = strings.TrimPrefix(s, "natsd: ")
		l.mu.Unlock()
	}
	return l.w.Write(p)
}

func (l *lastErrLine) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.line == "" {
		return "exited"
	}
	return l.line
}
