package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverKind is one of the two servers under test.
type serverKind struct {
	name string
	bin  string
}

// server is one running server process.
type server struct {
	kind     serverKind
	port     int
	profPort int // natsd's pprof port with -profile, else 0
	cmd      *exec.Cmd
	log      *os.File
	done     chan struct{} // closed when the process has exited
	exit     time.Time     // when Wait returned
	err      error         // Wait's error
}

// Lame-duck settings written to the config file every server gets.
const (
	lameDuckDuration = 30 * time.Second // nats-server refuses less
	lameDuckGrace    = 2 * time.Second
)

// confPath is the config file both servers run with, so that their flags
// are the same in every scenario.
func (h *harness) confPath() string { return filepath.Join(h.cfg.workDir, "bench.conf") }

func (h *harness) writeConf() error {
	conf := fmt.Sprintf("# written by bench: the same for natsd and nats-server\nlame_duck_duration: %q\nlame_duck_grace_period: %q\n",
		lameDuckDuration.String(), lameDuckGrace.String())
	return os.WriteFile(h.confPath(), []byte(conf), 0o644)
}

// Server ports are taken below the kernel's ephemeral range (32768 and up
// here), each run a new one. Thousands of sockets from earlier runs linger
// in TIME_WAIT; a server port drawn from the ephemeral range could equal
// the client port of one of them, and a new client whose own port happens
// to equal that socket's server port would then be refused.
const (
	firstServerPort = 20000
	lastServerPort  = 32000
)

var nextPort = firstServerPort + int(time.Now().UnixNano()%int64(lastServerPort-firstServerPort))

// freePort returns a free loopback port below the ephemeral range, never
// the same one twice in a run.
func freePort() (int, error) {
	for range lastServerPort - firstServerPort {
		p := nextPort
		if nextPort++; nextPort >= lastServerPort {
			nextPort = firstServerPort
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		l.Close()
		return p, nil
	}
	return 0, errors.New("no free port in 20000-32000")
}

// start runs a server on 127.0.0.1 with the shared flags (and extra ones,
// given to both servers alike) and waits until it answers INFO.
func (h *harness) start(k serverKind, tag string, extra ...string) (*server, error) {
	return h.startWith(k, tag, h.confPath(), extra...)
}

// startWith is start with another config file.
func (h *harness) startWith(k serverKind, tag, conf string, extra ...string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(h.cfg.workDir, fmt.Sprintf("%s-%s.log", k.name, tag))
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	prof, profPort, err := h.profileArgs(k)
	if err != nil {
		return nil, err
	}
	extra = append(prof, extra...)
	cmd := exec.Command(k.bin, append([]string{"-a", "127.0.0.1", "-p", strconv.Itoa(port), "-c", conf}, extra...)...)
	// Another name in argv[0]: `natsd --signal CMD=*` (run by tests on a
	// shared machine) signals every process whose argv[0] is natsd.
	cmd.Args[0] = "bench-" + k.name
	cmd.Stdout, cmd.Stderr = lf, lf
	// Its own process group, so a signal meant for the harness (Ctrl-C)
	// reaches the server only through stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", k.name, err)
	}
	s := &server{kind: k, port: port, profPort: profPort, cmd: cmd, log: lf, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		s.exit = time.Now()
		close(s.done)
	}()
	if err := s.waitReady(10 * time.Second); err != nil {
		s.kill()
		return nil, fmt.Errorf("%s not ready: %w (log: %s)", k.name, err, logPath)
	}
	return s, nil
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }
func (s *server) url() string  { return "nats://" + s.addr() }

// waitReady polls until the server sends its INFO line, for at most limit.
func (s *server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("exited: %v", s.err)
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && strings.HasPrefix(line, "INFO ") {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("no INFO within " + limit.String())
}

// rss returns the process's resident set size in bytes, from
// /proc/PID/status VmRSS.
func (s *server) rss() (int64, error) { return vmRSS(s.cmd.Process.Pid) }

func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) < 1 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// cpuTime returns the CPU time (user + system, all threads) the running
// process has used, from /proc/PID/stat, in clock ticks of 10 ms (USER_HZ
// is 100 on Linux).
func (s *server) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; count from its ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14, utime
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15, stime
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat times")
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// exitCPUTime returns the CPU time the process used in all, once it has
// exited.
func (s *server) exitCPUTime() time.Duration {
	if s.cmd.ProcessState == nil {
		return 0
	}
	return s.cmd.ProcessState.UserTime() + s.cmd.ProcessState.SystemTime()
}

// signal sends sig and returns the time it was sent.
func (s *server) signal(sig syscall.Signal) (time.Time, error) {
	t := time.Now()
	err := s.cmd.Process.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		// Seen once on this machine while the server was running (its log
		// went on). If the PID is still there, signal it by PID.
		if syscall.Kill(s.cmd.Process.Pid, 0) == nil {
			logf("    (signal by PID: the process handle said the server had exited)")
			t = time.Now()
			err = syscall.Kill(s.cmd.Process.Pid, sig)
		}
	}
	return t, err
}

// waitExit waits for the process to exit, at most limit; it reports
// whether it did.
func (s *server) waitExit(limit time.Duration) bool {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-s.done:
		return true
	case <-t.C:
		return false
	}
}

// stop ends the server: SIGTERM, then SIGKILL if it has not exited within
// 30 s. It is safe to call after the process has exited.
func (s *server) stop() {
	select {
	case <-s.done:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		if !s.waitExit(30 * time.Second) {
			s.kill()
		}
	}
	s.log.Close()
}

func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.done
	s.log.Close()
}
