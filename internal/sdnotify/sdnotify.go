// Package sdnotify speaks systemd's service notification protocol
// (sd_notify): datagrams of NAME=VALUE lines sent to the unix socket named
// by $NOTIFY_SOCKET. It is a small file of our own rather than
// coreos/go-systemd because natsd needs only the sending side, abstract
// socket support and the watchdog interval, all of which fit in a page.
//
// Invariants: with no socket configured every method is a no-op that
// returns nil; messages are sent whole, one datagram each.
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Notifier sends state changes to the service manager.
type Notifier struct {
	mu       sync.Mutex
	path     string // as $NOTIFY_SOCKET gave it
	addr     *net.UnixAddr
	conn     *net.UnixConn
	watchdog time.Duration
}

// FromEnv returns a Notifier for $NOTIFY_SOCKET (nil when unset), with the
// watchdog interval from $WATCHDOG_USEC when $WATCHDOG_PID is unset or is
// this process. It unsets the variables so child processes do not inherit
// them, as sd_notify's unset_environment does.
func FromEnv() (*Notifier, error) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil, nil
	}
	var wd time.Duration
	if usec := os.Getenv("WATCHDOG_USEC"); usec != "" {
		pid := os.Getenv("WATCHDOG_PID")
		if pid == "" || pid == strconv.Itoa(os.Getpid()) {
			n, err := strconv.ParseInt(usec, 10, 64)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("WATCHDOG_USEC=%q is not a positive number", usec)
			}
			wd = time.Duration(n) * time.Microsecond
		}
	}
	for _, v := range []string{"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"} {
		os.Unsetenv(v)
	}
	return New(path, wd)
}

// New returns a Notifier sending to the unix datagram socket at path ("@"
// first for the abstract namespace). watchdog is systemd's WatchdogSec, or
// 0 for none.
func New(path string, watchdog time.Duration) (*Notifier, error) {
	name := path
	if strings.HasPrefix(name, "@") {
		name = "\x00" + name[1:]
	}
	addr := &net.UnixAddr{Name: name, Net: "unixgram"}
	conn, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return nil, fmt.Errorf("notify socket %s: %w", path, err)
	}
	return &Notifier{path: path, addr: addr, conn: conn, watchdog: watchdog}, nil
}

// Env returns the variables that let a process this one starts speak to
// the same service manager: NOTIFY_SOCKET, and WATCHDOG_USEC when the
// watchdog is on (without WATCHDOG_PID, so it applies to whichever
// process is the main one). Nil for a nil Notifier. natsd's upgrade hands
// them to the process that becomes the service's main process.
func (n *Notifier) Env() []string {
	if n == nil {
		return nil
	}
	env := []string{"NOTIFY_SOCKET=" + n.path}
	if n.watchdog > 0 {
		env = append(env, "WATCHDOG_USEC="+strconv.FormatInt(n.watchdog.Microseconds(), 10))
	}
	return env
}

// Send sends one message made of the given NAME=VALUE lines.
func (n *Notifier) Send(lines ...string) error {
	if n == nil {
		return nil
	}
	msg := strings.Join(lines, "\n")
	n.mu.Lock()
	defer n.mu.Unlock()
	_, err := n.conn.Write([]byte(msg))
	return err
}

// Watchdog returns the watchdog interval systemd expects pings within, or
// 0 when the watchdog is off.
func (n *Notifier) Watchdog() time.Duration {
	if n == nil {
		return 0
	}
	return n.watchdog
}

// Close releases the socket.
func (n *Notifier) Close() error {
	if n == nil {
		return nil
	}
	return n.conn.Close()
}

// Monotonic returns CLOCK_MONOTONIC in microseconds, for MONOTONIC_USEC.
func Monotonic() int64 {
	return monotonicUsec()
}
