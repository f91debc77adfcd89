package handoff

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// The environment of an upgrade's child, and its descriptors.
const (
	envParent  = "NATSD_UPGRADE_PARENT"
	envFdNames = "NATSD_UPGRADE_FDNAMES"
	// statusFd is the child's end of the status pipe; the sockets follow.
	statusFd      = 3
	firstSocketFd = 4
)

// The status lines a child writes on its status pipe.
const (
	lineReady = "ready"
	lineError = "error "
)

// maxStatusLine bounds what the parent reads from the status pipe.
const maxStatusLine = 4096

// Socket is a listening socket handed to a child under a name.
type Socket struct {
	Name     string
	Listener net.Listener // a *net.TCPListener (anything with SyscallConn)
}

// Child is a natsd process started by [Start] to take over the sockets.
type Child struct {
	proc   *os.Process
	ready  chan error    // one value: nil when ready, or why not
	exited chan struct{} // closed once the child is reaped
	err    error         // the exit status, set before exited closes
}

// Start starts the executable at path with argv (argv[0] included) and
// env, handing it socks and a status pipe as the package doc describes.
// The parent's sockets are left as they were (still open, still
// non-blocking). The returned child is watched from two goroutines that
// end when it reports and when it exits; [Child.Ready] gives the report.
func Start(path string, argv, env []string, socks []Socket) (*Child, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("status pipe: %w", err)
	}
	files := []*os.File{w}
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	names := make([]string, len(socks))
	for i, s := range socks {
		f, err := dupSocket(s.Listener, s.Name)
		if err != nil {
			closeAll()
			r.Close()
			return nil, fmt.Errorf("hand over the %s socket: %w", s.Name, err)
		}
		files = append(files, f)
		names[i] = s.Name
	}
	cmd := &exec.Cmd{
		Path:   path,
		Args:   argv,
		Env:    append(append([]string(nil), env...), envParent+"="+strconv.Itoa(os.Getpid()), envFdNames+"="+strings.Join(names, ":")),
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		// ExtraFiles[i] becomes fd 3+i in the child.
		ExtraFiles: files,
	}
	err = cmd.Start()
	closeAll() // the child has its copies
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("start %s: %w", path, unwrapExec(err))
	}
	c := &Child{proc: cmd.Process, ready: make(chan error, 1), exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	go c.watch(r)
	return c, nil
}

// dupSocket duplicates the listener's descriptor inside the runtime's
// Control call. (*net.TCPListener).File would do it too, but marks the
// file as one it made non-blocking, and os/exec then switches the shared
// open file to blocking mode, stalling the parent's own accept loop.
func dupSocket(l net.Listener, name string) (*os.File, error) {
	sc, ok := l.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("a %T has no file descriptor", l)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var (
		dup    int
		duperr error
	)
	if err := raw.Control(func(fd uintptr) {
		dup, duperr = fcntlDup(int(fd))
	}); err != nil {
		return nil, err
	}
	if duperr != nil {
		return nil, duperr
	}
	return os.NewFile(uintptr(dup), name), nil
}

// fcntlDup duplicates fd with close-on-exec set (os/exec clears it for
// the descriptors it hands to the child).
func fcntlDup(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, fmt.Errorf("dup: %w", errno)
	}
	return int(r), nil
}

// unwrapExec drops the path that exec's error repeats.
func unwrapExec(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// watch reads the child's status line and reports it on c.ready.
func (c *Child) watch(r *os.File) {
	defer r.Close()
	line, err := bufio.NewReaderSize(io.LimitReader(r, maxStatusLine), maxStatusLine).ReadString('\n')
	line = strings.TrimRight(line, "\n")
	switch {
	case err == nil && line == lineReady:
		c.ready <- nil
	case err == nil && strings.HasPrefix(line, lineError):
		c.ready <- fmt.Errorf("new process (PID %d): %s", c.PID(), strings.TrimPrefix(line, lineError))
	case err == nil:
		c.ready <- fmt.Errorf("new process (PID %d) reported %q", c.PID(), line)
	default:
		<-c.exited
		c.ready <- fmt.Errorf("new process (PID %d) exited before it was ready: %v", c.PID(), c.exitStatus())
	}
}

// exitStatus describes how the child ended (after exited is closed).
func (c *Child) exitStatus() string {
	if c.err == nil {
		return "exit status 0"
	}
	return c.err.Error()
}

// PID returns the child's process ID.
func (c *Child) PID() int { return c.proc.Pid }

// Ready receives one value: nil once the child serves on the sockets, or
// the error it reported, or how it exited before reporting.
func (c *Child) Ready() <-chan error { return c.ready }

// Exited is closed once the child has exited and been reaped.
func (c *Child) Exited() <-chan struct{} { return c.exited }

// Abort kills the child unless it is gone already, and returns once it is
// reaped: what is left of a failed upgrade is no process at all.
func (c *Child) Abort() {
	select {
	case <-c.exited:
		return
	default:
	}
	c.proc.Signal(syscall.SIGKILL)
	<-c.exited
}
