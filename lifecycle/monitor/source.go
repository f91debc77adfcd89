package monitor

import (
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/internal/machine"
)

// Source is what the endpoints read from a server. Every method must be
// safe to call from any goroutine and must not block on the server's
// lifecycle (a monitoring request has to be answered while the server
// drains or shuts down).
type Source interface {
	// Config returns the identity and the running configuration.
	Config() Config
	// State returns the lifecycle state.
	State() State
	// History returns the lifecycle transitions, oldest first.
	History() []Transition
	// Stats returns the server-wide message and error counters.
	Stats() *conn.Stats
	// StartTime returns when the server started listening.
	StartTime() time.Time
	// TotalConnections returns how many connections were ever accepted.
	TotalConnections() int64
	// NumSubscriptions returns the number of live subscriptions.
	NumSubscriptions() int
	// NumClients returns how many connections are registered (open or
	// closing).
	NumClients() int
	// ConnStates counts the registered connections by connection state,
	// without taking their locks.
	ConnStates() (open, closing int)
	// Open returns a snapshot of every registered connection, in no
	// particular order.
	Open() []conn.Snapshot
	// Closed returns the snapshots kept of recently closed connections
	// (at most max_closed_clients), oldest first.
	Closed() []conn.Snapshot
	// ClosedCounts returns, for every close reason r, how many connections
	// were closed for r since the server was created: ClosedCounts()[r].
	// The slice may be shorter than the largest reason.
	ClosedCounts() []int64
}

// Config is the part of a server's identity and options that /varz
// reports.
type Config struct {
	ServerID   string
	ServerName string
	Version    string
	Proto      int
	Host       string
	Port       int // the bound client port
	// AuthRequired reports whether clients must authenticate;
	// AuthTimeout and TLSTimeout are how long they have to.
	AuthRequired   bool
	AuthTimeout    time.Duration
	TLSTimeout     time.Duration
	HTTPHost       string
	HTTPPort       int // the bound monitoring port
	MaxConn        int
	MaxSubs        int // max_subscriptions; 0: unlimited
	MaxPayload     int
	MaxControlLine int
	MaxPending     int64
	PingInterval   time.Duration
	PingMax        int
	WriteDeadline  time.Duration
	// LoadTime is when the running options were loaded: at start, or at
	// the last accepted reload.
	LoadTime      time.Time
	SystemAccount string // "" when there is none
}

// State is the server's lifecycle state as monitoring sees it.
type State struct {
	Name  string    // the declared state name, e.g. "lame_duck"
	Since time.Time // when the server entered it
	// Ready reports whether the server takes new clients; /healthz
	// answers 200 exactly when it is true.
	Ready bool
}

// Transition is one recorded move of the server's state machine, as the
// machine package records it (from, to, event, cause, time).
type Transition = machine.Transition
