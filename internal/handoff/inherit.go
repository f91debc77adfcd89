package handoff

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// The variables of systemd socket activation (sd_listen_fds(3)).
const (
	envListenPID     = "LISTEN_PID"
	envListenFDs     = "LISTEN_FDS"
	envListenFDNames = "LISTEN_FDNAMES"
	firstSystemdFd   = 3
)

// ClientName is the name of the client socket. A single socket systemd
// passes without a name of natsd's (no FileDescriptorName=, so systemd
// names it after the socket unit) is taken to be the client socket.
const ClientName = "client"

// Inherited are the listening sockets this process was handed: by the
// natsd process it replaces (an upgrade), or by systemd. Take each with
// [Inherited.Listener]; [Inherited.Done] closes the rest. A child of an
// upgrade then reports to its parent with [Inherited.Ready] or
// [Inherited.Fail]. Not safe for concurrent use.
type Inherited struct {
	source string // "PID 123" or "systemd"
	parent int    // the upgrading parent's PID; 0 under systemd
	// strict: every socket must be used and fit the configuration
	// (systemd's: the operator declared them). An upgrade's sockets may
	// go unused when the new configuration dropped or moved a listener.
	strict bool
	socks  map[string]*net.TCPListener
	status *os.File // the status pipe to the parent (upgrade only)
}

// FromEnv returns the sockets this process inherited, or nil when it
// inherited none: from an upgrading natsd (NATSD_UPGRADE_PARENT), else from
// systemd (LISTEN_FDS, when LISTEN_PID is this process). The variables are
// removed from the environment, so no later child sees them. A malformed
// variable or a descriptor that is not a listening TCP socket is an error
// naming it.
func FromEnv() (*Inherited, error) {
	if v, ok := os.LookupEnv(envParent); ok {
		names := os.Getenv(envFdNames)
		os.Unsetenv(envParent)
		os.Unsetenv(envFdNames)
		return fromParent(v, names)
	}
	pid, n, names := os.Getenv(envListenPID), os.Getenv(envListenFDs), os.Getenv(envListenFDNames)
	if n == "" {
		return nil, nil
	}
	for _, v := range []string{envListenPID, envListenFDs, envListenFDNames} {
		os.Unsetenv(v)
	}
	if pid != strconv.Itoa(os.Getpid()) {
		return nil, nil // meant for another process (sd_listen_fds ignores them too)
	}
	return fromSystemd(n, names)
}

func fromParent(pid, names string) (*Inherited, error) {
	ppid, err := strconv.Atoi(pid)
	if err != nil || ppid <= 0 {
		return nil, fmt.Errorf("%s=%q is not a PID", envParent, pid)
	}
	var list []string
	if names != "" {
		list = strings.Split(names, ":")
	}
	in := &Inherited{source: "PID " + pid, parent: ppid}
	syscall.CloseOnExec(statusFd)
	in.status = os.NewFile(statusFd, "upgrade status pipe")
	if err := in.adopt(firstSocketFd, list, envFdNames); err != nil {
		in.Fail(err)
		return nil, err
	}
	return in, nil
}

func fromSystemd(n, names string) (*Inherited, error) {
	count, err := strconv.Atoi(n)
	if err != nil || count < 0 {
		return nil, fmt.Errorf("%s=%q is not a number of sockets", envListenFDs, n)
	}
	list, err := systemdNames(count, names)
	if err != nil {
		return nil, err
	}
	in := &Inherited{source: "systemd", strict: true}
	if err := in.adopt(firstSystemdFd, list, envListenFDs); err != nil {
		return nil, err
	}
	return in, nil
}

// systemdNames names the count sockets from LISTEN_FDNAMES: one name per
// socket, distinct; a lone socket without a name of natsd's (systemd's
// default is the socket unit's name) is the client socket.
func systemdNames(count int, names string) ([]string, error) {
	var list []string
	if names != "" {
		list = strings.Split(names, ":")
	}
	if len(list) != count {
		if names != "" {
			return nil, fmt.Errorf("%s=%q names %d sockets, but %s=%d", envListenFDNames, names, len(list), envListenFDs, count)
		}
		list = make([]string, count)
	}
	if count == 1 && (list[0] == "" || list[0] == "unknown" || strings.HasSuffix(list[0], ".socket")) {
		list[0] = ClientName
	}
	return list, nil
}

// adopt takes over the descriptors first, first+1, … as the named
// listening sockets. On error, the ones taken are closed.
func (in *Inherited) adopt(first int, names []string, from string) error {
	in.socks = make(map[string]*net.TCPListener, len(names))
	for i, name := range names {
		fd := first + i
		l, err := listenerAt(fd, name)
		if err == nil && (name == "" || in.socks[name] != nil) {
			l.Close()
			err = fmt.Errorf("needs a distinct name (FileDescriptorName= in the socket unit), got %q", name)
		}
		if err != nil {
			in.closeAll()
			return fmt.Errorf("%s: fd %d: %w", from, fd, err)
		}
		in.socks[name] = l
	}
	return nil
}

// listenerAt takes over fd as a listening TCP socket.
func listenerAt(fd int, name string) (*net.TCPListener, error) {
	syscall.CloseOnExec(fd)
	f := os.NewFile(uintptr(fd), name)
	if f == nil {
		return nil, errors.New("not an open descriptor")
	}
	defer f.Close() // FileListener holds its own duplicate
	l, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("not a listening socket: %w", unwrapSyscall(err))
	}
	tl, ok := l.(*net.TCPListener)
	if !ok {
		l.Close()
		return nil, fmt.Errorf("a %s socket, not TCP", l.Addr().Network())
	}
	return tl, nil
}

func unwrapSyscall(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// Source says where the sockets came from: "PID 123" (the natsd process
// being replaced) or "systemd".
func (in *Inherited) Source() string { return in.source }

// ParentPID returns the PID of the natsd process handing its sockets
// over, or 0 when they came from systemd.
func (in *Inherited) ParentPID() int { return in.parent }

// Listener takes the inherited socket called name, for a listener
// configured on port (-1 or 0: any port). It returns nil, nil when there
// is no such socket, or when an upgrade's socket is on another port (the
// new configuration moved the listener: the caller binds, and Done closes
// the old socket). A systemd socket on another port is an error: the
// socket unit and the configuration disagree.
func (in *Inherited) Listener(name string, port int) (net.Listener, error) {
	l := in.socks[name]
	if l == nil {
		return nil, nil
	}
	got := l.Addr().(*net.TCPAddr).Port
	if port > 0 && got != port {
		if in.strict {
			return nil, fmt.Errorf("the %s socket from %s listens on %s, but the configured port is %d", name, in.source, l.Addr(), port)
		}
		return nil, nil
	}
	delete(in.socks, name)
	return l, nil
}

// Done closes every socket no listener took. Under systemd that is an
// error naming them: the socket unit declares a listener the
// configuration does not have.
func (in *Inherited) Done() error {
	left := make([]string, 0, len(in.socks))
	for name := range in.socks {
		left = append(left, name)
	}
	sort.Strings(left)
	in.closeAll()
	if in.strict && len(left) > 0 {
		return fmt.Errorf("systemd passed socket(s) natsd does not use: %s (each FileDescriptorName= must name a listener the configuration has)", strings.Join(left, ", "))
	}
	return nil
}

func (in *Inherited) closeAll() {
	for name, l := range in.socks {
		l.Close()
		delete(in.socks, name)
	}
}

// Ready tells the parent that this process serves on the sockets, so it
// can stop accepting and drain. Without a parent (systemd) it does
// nothing.
func (in *Inherited) Ready() error { return in.report(lineReady) }

// Fail tells the parent why this process will not take over; the parent
// reaps it and goes on serving. Without a parent it does nothing.
func (in *Inherited) Fail(err error) {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	in.report(lineError + msg)
}

// report writes the one status line, once.
func (in *Inherited) report(line string) error {
	if in == nil || in.status == nil {
		return nil
	}
	f := in.status
	in.status = nil
	_, err := f.WriteString(line + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("report to the natsd being replaced (%s): %w", in.source, err)
	}
	return nil
}
