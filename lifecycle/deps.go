package lifecycle

import (
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"
)

// Deps are what a [Server] runs with rather than what it is configured
// with: where it logs, where its randomness comes from, how it binds
// sockets and whom it tells about its state. They are given once, to
// [New], and a reload never changes them. The zero value is ready to use:
// every nil field gets the default its comment names.
type Deps struct {
	// Log receives the server's log lines. Nil: a logger at info level on
	// stderr.
	Log *logrus.Logger
	// Rand is the random source of the lame-duck spread and, through a
	// seed drawn once per connection, of the queue-group pick and the
	// first PING's jitter; tests inject a seeded one. The server owns it
	// from New on. Nil: a random seed.
	Rand *rand.Rand
	// Notifier, if set, receives systemd notifications (READY, RELOADING,
	// STOPPING, STATUS, EXTEND_TIMEOUT_USEC, WATCHDOG); see notify.go. An
	// [*sdnotify.Notifier] is one; pass none (not a nil pointer) when
	// there is no service manager.
	Notifier Notifier
	// Listen binds every socket the server listens on (clients,
	// monitoring, profiling, routes), as [net.Listen] does; tests hand in
	// an in-memory listener. Nil: net.Listen.
	Listen func(network, address string) (net.Listener, error)
	// Inherited, if set, holds listening sockets this process was handed
	// (by the natsd it replaces, or by systemd): the start takes each
	// listener from it when it has one, binding only the others. Nil:
	// every socket is bound.
	Inherited Inherited
	// Upgrade, if set, starts the process that replaces this one in an
	// upgrade, handing it the listening sockets (see upgrade.go); natsd
	// re-runs its own executable. Nil: upgrades are refused.
	Upgrade func(socks []Socket) (Successor, error)
	// ProgName names the ports file (<ProgName>_<pid>.ports). Empty: the
	// base name of os.Args[0].
	ProgName string
}

// Notifier is where the server sends its service-manager notifications:
// lines such as "READY=1", sent together as one message.
type Notifier interface {
	// Send sends the lines as one notification.
	Send(lines ...string) error
	// Watchdog returns the watchdog interval the service manager asked
	// for, or 0 when there is none.
	Watchdog() time.Duration
}

// withDefaults returns d with every nil field filled in.
func (d Deps) withDefaults() Deps {
	if d.Log == nil {
		d.Log = logrus.New()
	}
	if d.Rand == nil {
		d.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if d.Listen == nil {
		d.Listen = net.Listen
	}
	if d.ProgName == "" {
		d.ProgName = filepath.Base(os.Args[0])
	}
	return d
}
