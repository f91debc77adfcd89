package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/looplab/fsm"
	"github.com/natsd/natsd/conn"
)

// The names of the listening sockets, as an upgrade hands them over and
// as systemd's socket units name them (FileDescriptorName=).
const (
	SocketClient  = "client"
	SocketHTTP    = "http"
	SocketHTTPS   = "https"
	SocketProf    = "prof"
	SocketCluster = "cluster"
)

// Socket is one listening socket of the server, under its name.
type Socket struct {
	Name     string
	Listener net.Listener // the bound socket itself (TLS is layered above it)
}

// Inherited are listening sockets this process was handed; see
// [Deps.Inherited]. natsd's come from internal/handoff.
type Inherited interface {
	// Listener takes the socket called name for a listener configured on
	// port (RandomPort: any port); nil, nil when there is none to take.
	Listener(name string, port int) (net.Listener, error)
	// Done closes every socket not taken; an error says the sockets and
	// the configuration disagree (systemd's must all be used).
	Done() error
	// Source names where the sockets came from ("PID 123", "systemd").
	Source() string
	// ParentPID is the natsd process handing them over, or 0.
	ParentPID() int
}

// Successor is the new process an upgrade started, as the server watches
// it; see [Deps.Upgrade].
type Successor interface {
	PID() int
	// Ready receives one value: nil once the process serves on the
	// sockets, or why it will not.
	Ready() <-chan error
	// Abort kills the process unless it is gone, and returns once it is
	// reaped.
	Abort()
}

// upgradeRun is one upgrade: the new process and where its outcome goes.
// It is created by [Server.UpgradeCause] and touched by the lifecycle loop
// only, except done (buffered, written once).
type upgradeRun struct {
	succ   Successor
	done   chan error
	cancel context.CancelFunc // stops awaitSuccessor
}

// Upgrade replaces this process with a new natsd on the same listening
// sockets; see [Server.UpgradeCause].
func (s *Server) Upgrade() (<-chan error, error) { return s.UpgradeCause("api") }

// UpgradeCause starts an upgrade and returns once the new process is
// started: the returned channel then receives the outcome, nil once the
// new process serves and this one has handed over its sockets and entered
// lame duck, or why the upgrade failed (this server is listening as
// before, and no process is left behind). An upgrade is refused unless the
// server is listening (the error names the state), and when the server
// runs without [Deps.Upgrade]. cause is recorded in the history.
func (s *Server) UpgradeCause(cause string) (<-chan error, error) {
	run := &upgradeRun{done: make(chan error, 1)}
	if err := s.request(request{event: EventUpgrade, cause: cause, upgrade: run}); err != nil {
		s.log.Errorf("%v", err)
		return nil, err
	}
	return run.done, nil
}

// beforeUpgrade starts the new process with every listening socket.
func (s *Server) beforeUpgrade(_ context.Context, e *fsm.Event) {
	run := requestOf(e).upgrade
	if s.deps.Upgrade == nil {
		e.Cancel(errors.New("upgrade refused: this server was started without a way to start its successor"))
		return
	}
	succ, err := s.deps.Upgrade(s.socks)
	if err != nil {
		e.Cancel(fmt.Errorf("upgrade failed: %w", err))
		return
	}
	run.succ = succ
	s.up = run
}

// enterUpgrading waits for the new process in a goroutine the server owns.
func (s *Server) enterUpgrading(_ context.Context, _ *fsm.Event) {
	run := s.up
	ctx, cancel := context.WithCancel(context.Background())
	run.cancel = cancel
	timeout := s.opts.Load().UpgradeTimeout
	s.log.Infof("Upgrading: started new process PID %d with %d listening socket(s); waiting up to %v for it to be ready",
		run.succ.PID(), len(s.socks), timeout)
	s.loops.Add(1)
	go s.awaitSuccessor(ctx, run, timeout)
}

// awaitSuccessor turns the new process's report into handoff or rollback.
func (s *Server) awaitSuccessor(ctx context.Context, run *upgradeRun, timeout time.Duration) {
	defer s.loops.Done()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	pid := run.succ.PID()
	r := request{event: EventRollback, upgrade: run, reply: make(chan error, 1)}
	select {
	case err := <-run.succ.Ready():
		if err == nil {
			r.event, r.cause = EventHandoff, fmt.Sprintf("new process PID %d ready", pid)
		} else {
			r.cause = "upgrade failed: " + err.Error()
		}
	case <-timer.C:
		r.cause = fmt.Sprintf("upgrade failed: new process (PID %d) not ready within upgrade_timeout (%v)", pid, timeout)
	case <-ctx.Done():
		return
	}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
	}
}

// errOtherUpgrade cancels a report about an upgrade that is over.
var errOtherUpgrade = errors.New("not the upgrade under way")

// beforeRollback checks that the report is about the upgrade under way.
func (s *Server) beforeRollback(_ context.Context, e *fsm.Event) {
	if requestOf(e).upgrade != s.up {
		e.Cancel(errOtherUpgrade)
	}
}

// beforeHandoff stops accepting on every socket, before the state changes
// (so the accept loop never refuses a connection the new process would
// have taken), and leaves the service manager to the new process.
func (s *Server) beforeHandoff(_ context.Context, e *fsm.Event) {
	run := requestOf(e).upgrade
	if run != s.up {
		e.Cancel(errOtherUpgrade)
		return
	}
	s.mu.Lock()
	ln := s.ln
	extra := s.extra
	s.mu.Unlock()
	ln.Release()
	s.stopCluster()
	for _, x := range extra {
		x.release()
	}
	pid := run.succ.PID()
	s.log.Infof("Handed the listening sockets to PID %d: it accepts from now on", pid)
	if n := s.notifier; n != nil {
		s.send(n, "MAINPID="+strconv.Itoa(pid), "STATUS=handed over to PID "+strconv.Itoa(pid))
		s.notifier = nil
	}
}

// leaveUpgrading ends the wait for the new process; unless it took over,
// nothing of it is left: it is killed and reaped, and the files it may have
// written are put back as they were.
func (s *Server) leaveUpgrading(_ context.Context, e *fsm.Event) {
	run := s.up
	s.up = nil
	run.cancel()
	if e.Event == EventHandoff {
		s.afterTransition(func() { run.done <- nil })
		return
	}
	run.succ.Abort()
	s.undoSuccessorFiles(run.succ.PID())
	var err error
	if e.Event == EventRollback {
		err = errors.New(requestOf(e).cause)
	} else {
		err = fmt.Errorf("upgrade cancelled by %s (%s): new process PID %d killed", e.Event, requestOf(e).cause, run.succ.PID())
	}
	s.log.Errorf("%v", err)
	s.afterTransition(func() { run.done <- err })
}

// undoSuccessorFiles removes the ports file a failed new process may have
// left and writes this process's PID back into the PID file.
func (s *Server) undoSuccessorFiles(pid int) {
	s.mu.Lock()
	pidFile := s.pidFile
	s.mu.Unlock()
	if err := removeFile(portsFilePathFor(s.opts.Load().PortsFileDir, s.deps.ProgName, pid)); err != nil {
		s.log.Errorf("Removing the ports file of PID %d: %v", pid, err)
	}
	if pidFile == "" {
		return
	}
	if b, err := os.ReadFile(pidFile); err == nil && string(b) == strconv.Itoa(os.Getpid()) {
		return
	}
	if err := writePidFile(pidFile, 0); err != nil {
		s.log.Errorf("Restoring the PID file: %v", err)
	}
}

// announceHandoff is the lame-duck announcement after a handoff: every
// protocol-1 client gets an INFO with "ldm":true and the connect_urls it
// had, this server's own URL included (the new process answers it); no
// route INFO with "ldm":true goes to the cluster, where nats-server would
// drop natsd's URL from its clients' connect_urls once for it and once
// more when this process's route closes, although the new process still
// serves that URL.
func (s *Server) announceHandoff(clients []*conn.Conn) {
	urls := s.connectURLs()
	for _, c := range clients {
		c.SendAsyncInfo(urls, true)
	}
}
