package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/internal/soak"
	"gotest.tools/v3/assert"
)

// Signals at the worst moment. Each test starts natsd logging to a file,
// sends signals while it is in lame duck or shutting down, and then checks
// the log: the state transitions are a legal walk of lifecycle.Machine,
// at most one drain, no panic, no hang.

// chaosNatsd starts natsd with conf, logging to a file; it returns the
// process and a function reading the log.
func chaosNatsd(t *testing.T, conf string, args ...string) (*proc, string, func() string) {
	t.Helper()
	prepareNatsd(t)
	logPath := filepath.Join(t.TempDir(), "natsd.log")
	p := startNatsd(t, append([]string{"-c", writeConf(t, conf), "-l", logPath}, args...)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("natsd log:\n%s", tail(readFile(logPath+".1")+readFile(logPath), 4000))
		}
	})
	return p, logPath, func() string { return readFile(logPath) }
}

// clients connects n nats.go clients (protocol 1: they get the lame-duck
// INFO) that stay connected until natsd closes them.
func clients(t *testing.T, p *proc, n int) {
	t.Helper()
	for range n {
		nc, err := nats.Connect(p.url(), nats.NoReconnect())
		assert.NilError(t, err)
		t.Cleanup(nc.Close)
		assert.NilError(t, nc.Flush())
	}
}

// holdShutdown gives natsd a subscriber that never reads, with more queued
// for it than the socket buffers hold, so that a shutdown lasts until
// shutdown_timeout (write_deadline must be longer).
func holdShutdown(t *testing.T, p *proc) {
	t.Helper()
	stuck, err := soak.DialNATS(p.addr(), "SUB stuck 1\r\n", 10*time.Second)
	assert.NilError(t, err)
	t.Cleanup(func() { stuck.Close() })
	assert.NilError(t, stuck.(*net.TCPConn).SetReadBuffer(4096))
	pub, err := nats.Connect(p.url(), nats.NoReconnect())
	assert.NilError(t, err)
	defer pub.Close()
	payload := make([]byte, 64*1024)
	for range 96 {
		assert.NilError(t, pub.Publish("stuck", payload))
	}
	assert.NilError(t, pub.Flush())
}

// checkRun checks what every chaos run must satisfy once natsd exited: no
// panic, legal transitions, at most one drain and one shutdown.
func checkRun(t *testing.T, p *proc, log string) []string {
	t.Helper()
	assert.Equal(t, panics(log+p.out.String()), 0, "natsd output:\n%s", p.out.String())
	states := checkTransitions(t, log)
	assert.Assert(t, countLines(log, "-> lame_duck") <= 1, "more than one drain")
	assert.Assert(t, countLines(log, "Entering lame duck mode") <= 1, "more than one drain")
	assert.Assert(t, countLines(log, "-> shutting_down") <= 1, "more than one shutdown")
	return states
}

// TestSignalsInLameDuck: a second SIGUSR2 (alone or in a burst) starts no
// second drain; SIGHUP is refused with the state named; the drain goes on
// until SIGINT stops it. (SIGTERM ignored and SIGINT obeyed in lame duck
// are TestSigtermIgnoredInLameDuckSigintStops.)
func TestSignalsInLameDuck(t *testing.T) {
	const conf = "lame_duck_duration: \"1h\"\nlame_duck_grace_period: \"30m\"\n"
	cases := []struct {
		name string
		send func(t *testing.T, p *proc, log func() string)
		want string // in the log, before SIGINT
	}{
		{
			name: "SIGUSR2 twice",
			send: func(t *testing.T, p *proc, log func() string) {
				p.signal(syscall.SIGUSR2)
				waitText(t, "the log", log, "listening -> lame_duck")
				p.signal(syscall.SIGUSR2)
			},
			want: "enter_lame_duck request ignored in state lame_duck (signal SIGUSR2)",
		},
		{
			name: "SIGUSR2 burst",
			send: func(t *testing.T, p *proc, log func() string) {
				for range 20 {
					p.signal(syscall.SIGUSR2)
				}
			},
			want: "listening -> lame_duck",
		},
		{
			name: "SIGHUP",
			send: func(t *testing.T, p *proc, log func() string) {
				p.signal(syscall.SIGUSR2)
				waitText(t, "the log", log, "listening -> lame_duck")
				p.signal(syscall.SIGHUP)
			},
			want: "Reload failed, keeping the running configuration: reload refused: the server is lame_duck",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, _, log := chaosNatsd(t, conf)
			clients(t, p, 3)
			tc.send(t, p, log)
			waitText(t, "the log", log, tc.want)
			assert.Assert(t, !p.exitedWithin(0), "natsd exited in lame duck")
			p.signal(syscall.SIGINT)
			assert.Equal(t, p.wait(), 0)
			assert.DeepEqual(t, checkRun(t, p, log()), []string{"init", "listening", "lame_duck", "shutting_down", "stopped"})
			p.assertNoFiles()
		})
	}
}

// TestSignalsDuringShutdown: while a shutdown is held up by a client that
// does not read (write_deadline 1m, shutdown_timeout 2s), SIGUSR1 reopens
// the log file, SIGHUP and SIGUSR2 are refused or ignored at once with the
// state named, SIGTERM is a no-op, and SIGINT exits 1 at once (natsd's
// "press Ctrl-C again"), even right after a SIGHUP.
func TestSignalsDuringShutdown(t *testing.T) {
	const (
		conf     = "write_deadline: \"1m\"\nshutdown_timeout: \"2s\"\n"
		promptly = time.Second // well before shutdown_timeout
	)
	cases := []struct {
		name string
		// send runs once natsd is shutting down.
		send func(t *testing.T, p *proc, logPath string, log func() string)
		// code is the exit code; forced exits (1) leave the files.
		code int
		// newLog must be in the log file natsd writes at the end.
		newLog string
	}{
		{
			name:   "SIGUSR1 reopens the log",
			newLog: "Server state shutting_down -> stopped",
			send: func(t *testing.T, p *proc, logPath string, log func() string) {
				assert.NilError(t, os.Rename(logPath, logPath+".1"))
				p.signal(syscall.SIGUSR1)
				waitText(t, "the new log", log, "Log file reopened")
				assert.Assert(t, strings.Contains(log(), "Log file reopened"))
			},
		},
		{
			name: "SIGTERM again",
			send: func(t *testing.T, p *proc, logPath string, log func() string) {
				p.signal(syscall.SIGTERM)
				waitText(t, "the log", log, "Trapped SIGTERM")
			},
		},
		{
			name: "SIGHUP is refused at once",
			send: func(t *testing.T, p *proc, logPath string, log func() string) {
				p.signal(syscall.SIGHUP)
				start := time.Now()
				waitText(t, "the log", log, "reload refused: the server is shutting_down")
				assert.Assert(t, time.Since(start) < promptly, "refused after %v", time.Since(start))
			},
		},
		{
			name: "SIGUSR2 is ignored at once",
			send: func(t *testing.T, p *proc, logPath string, log func() string) {
				p.signal(syscall.SIGUSR2)
				start := time.Now()
				waitText(t, "the log", log, "enter_lame_duck request ignored in state shutting_down")
				assert.Assert(t, time.Since(start) < promptly, "ignored after %v", time.Since(start))
			},
		},
		{
			name: "SIGINT exits 1 at once",
			send: func(t *testing.T, p *proc, logPath string, log func() string) {
				p.signal(syscall.SIGINT)
				assert.Assert(t, p.exitedWithin(promptly), "natsd still running %v after SIGINT during shutdown", promptly)
			},
			code: 1,
		},
		{
			name: "SIGINT right after SIGHUP exits 1 at once",
			send: func(t *testing.T, p *proc, logPath string, log func() string) {
				p.signal(syscall.SIGHUP)
				p.signal(syscall.SIGINT)
				assert.Assert(t, p.exitedWithin(promptly), "natsd still running %v after SIGINT during shutdown", promptly)
			},
			code: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, logPath, log := chaosNatsd(t, conf)
			holdShutdown(t, p)
			p.signal(syscall.SIGTERM)
			waitText(t, "the log", log, "listening -> shutting_down")
			tc.send(t, p, logPath, log)
			assert.Equal(t, p.wait(), tc.code)
			assert.Assert(t, strings.Contains(log(), tc.newLog), "%q is not in the log file", tc.newLog)
			all := readFile(logPath+".1") + log()
			states := checkRun(t, p, all)
			if tc.code == 0 {
				assert.DeepEqual(t, states, []string{"init", "listening", "shutting_down", "stopped"})
				p.assertNoFiles()
			} else {
				assert.Assert(t, strings.Contains(all, "Trapped SIGINT while shutting down: exiting now"), all)
			}
		})
	}
}

// stormSignals are the signals of a storm: every one natsd traps. SIGKILL
// is left out (nothing survives it), and so is SIGSTOP.
var stormSignals = []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP}

// TestSignalStorm sends natsd 100 signals drawn at random from
// stormSignals in one burst, while clients are connected (and, in every
// other run, a shutdown is held up by a client that does not read). natsd
// must end by itself within lame_duck_duration + shutdown_timeout, exit 0
// (or 1 if the log shows a SIGINT during shutdown forced it), never die of
// a signal it traps, never panic, and log only legal transitions with at
// most one drain. 2 storms in make test, 20 under NATSD_SOAK=1.
func TestSignalStorm(t *testing.T) {
	prepareNatsd(t)
	const (
		conf  = "lame_duck_duration: \"2s\"\nlame_duck_grace_period: \"500ms\"\nwrite_deadline: \"1m\"\nshutdown_timeout: \"2s\"\n"
		bound = 2*time.Second + 2*time.Second + 10*time.Second
	)
	storms := soak.Size(2, 20)
	var (
		sent, exits1, panicsSeen int
		killedLate               int
		codes                    = map[string]int{}
	)
	for run := range storms {
		seed := uint64(run + 1)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			p, logPath, log := chaosNatsd(t, conf, "-D")
			clients(t, p, 3)
			if run%2 == 1 {
				holdShutdown(t, p)
			}
			r := rand.New(rand.NewPCG(seed, 0x5157))
			var names []string
			for range 100 {
				sig := stormSignals[r.IntN(len(stormSignals))]
				if err := syscall.Kill(p.pid(), sig); err != nil {
					assert.Assert(t, errors.Is(err, syscall.ESRCH), "kill: %v", err)
					break // natsd has exited
				}
				sent++
				names = append(names, signalName(sig))
			}
			t.Logf("sent %d signals: %s", len(names), strings.Join(names, " "))
			assert.Assert(t, p.exitedWithin(bound), "natsd hung: still running %v after the storm", bound)
			code := p.exitCode()
			codes[fmt.Sprint(p.err)]++
			all := readFile(logPath+".1") + log()
			panicsSeen += panics(all + p.out.String())
			checkRun(t, p, all)
			switch code {
			case 0:
				p.assertNoFiles()
			case 1:
				exits1++
				assert.Assert(t, strings.Contains(all, "Trapped SIGINT while shutting down: exiting now"), "exit 1 without a forced exit:\n%s", tail(all, 2000))
			default:
				if strings.Contains(all, "Server Exiting..") {
					killedLate++
				}
				t.Fatalf("natsd ended with %v (exit code %d) after the storm; its last log lines:\n%s\noutput:\n%s", p.err, code, tail(all, 1500), tail(p.out.String(), 3000))
			}
		})
	}
	t.Logf("%d storms, %d signals sent; endings %v", storms, sent, codes)
	assert.NilError(t, soak.Record(soak.Figures{
		Suite: "signal storm", Mode: "process", Connections: 3,
		GoroutinesBefore: -1, GoroutinesPeak: -1, GoroutinesAfter: -1, FDsBefore: -1, FDsPeak: -1, FDsAfter: -1,
		Signals: sent, Panics: panicsSeen,
		Notes: fmt.Sprintf("%d storms of up to 100 signals from {INT, TERM, QUIT, USR1, USR2, HUP}; %d ended in a forced exit 1 (SIGINT while shutting down), %d killed by a late signal while exiting; endings %v", storms, exits1, killedLate, codes),
	}))
}

// TestSignalsWhileExiting keeps signalling natsd (SIGHUP, SIGUSR1, SIGUSR2,
// SIGQUIT, SIGTERM; not SIGINT, which during shutdown deliberately exits 1)
// from its SIGTERM until it has exited: every signal natsd traps must stay
// trapped until the very end, so it exits 0, not killed by a late signal's
// default action (SIGHUP, SIGUSR1/2 and SIGTERM terminate; SIGQUIT dumps
// goroutines and exits 2).
func TestSignalsWhileExiting(t *testing.T) {
	late := []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGQUIT, syscall.SIGTERM}
	for run := range 5 {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			p, _, log := chaosNatsd(t, "shutdown_timeout: \"2s\"\n")
			p.signal(syscall.SIGTERM)
			sent := 0
			for stop := time.Now().Add(10 * time.Second); time.Now().Before(stop) && sent < 200000; sent++ {
				if syscall.Kill(p.pid(), late[sent%len(late)]) != nil {
					break // exited
				}
			}
			assert.Assert(t, p.exitedWithin(10*time.Second), "natsd did not exit")
			assert.NilError(t, p.err, "natsd did not exit 0 after %d late signals", sent)
			checkRun(t, p, log())
		})
	}
}
