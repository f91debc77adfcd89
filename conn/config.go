package conn

import (
	"crypto/tls"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsd/natsd/account"
	"github.com/natsd/natsd/conn/subject"
	"github.com/sirupsen/logrus"
)

// Config is what a connection takes from the server's options when it is
// created. The server builds a new Config on reload; a connection keeps the
// one it started with for its INFO and TLS, while the limits that a reload
// can change are read from [Shared] at each use (see [Limits]).
type Config struct {
	MaxControlLine int
	MaxPayload     int
	MaxPending     int64
	MaxSubs        int // max_subscriptions: the most subscriptions one connection may hold (0 or less: unlimited)
	WriteDeadline  time.Duration
	PingInterval   time.Duration
	PingMax        int
	// MaxTracedMsgLen truncates traced payloads (0: unlimited).
	MaxTracedMsgLen int
	// TLS, when set, makes every connection TLS: INFO goes out in the
	// clear, then the client must complete a handshake within TLSTimeout
	// (else the connection closes with TLSHandshakeError).
	TLS        *tls.Config
	TLSTimeout time.Duration
	// TLSFirst (tls { handshake_first }) runs the handshake before INFO,
	// which then goes out encrypted; AllowNonTLS (allow_non_tls) lets a
	// client that does not start a handshake after INFO go on in the
	// clear. Both need TLS.
	TLSFirst    bool
	AllowNonTLS bool
	// Info is the server part of the INFO line; client_id and client_ip are
	// filled in per connection.
	Info Info
}

// Info is the INFO protocol line's JSON, with nats-server's field names.
type Info struct {
	ServerID     string   `json:"server_id"`
	ServerName   string   `json:"server_name"`
	Version      string   `json:"version"`
	Proto        int      `json:"proto"`
	GitCommit    string   `json:"git_commit,omitempty"`
	Go           string   `json:"go"`
	Host         string   `json:"host"`
	Port         int      `json:"port"`
	Headers      bool     `json:"headers"`
	AuthRequired bool     `json:"auth_required,omitempty"`
	TLSAvailable bool     `json:"tls_available,omitempty"`
	MaxPayload   int      `json:"max_payload"`
	ClientID     uint64   `json:"client_id,omitempty"`
	ClientIP     string   `json:"client_ip,omitempty"`
	TLSRequired  bool     `json:"tls_required,omitempty"`
	TLSVerify    bool     `json:"tls_verify,omitempty"`
	ConnectURLs  []string `json:"connect_urls,omitempty"`
	LameDuckMode bool     `json:"ldm,omitempty"`
	Nonce        string   `json:"nonce,omitempty"`
}

// Stats are server-wide counters that every connection adds to. They are
// atomics so monitoring reads them without a lock.
type Stats struct {
	InMsgs           atomic.Int64
	InBytes          atomic.Int64
	OutMsgs          atomic.Int64
	OutBytes         atomic.Int64
	SlowConsumers    atomic.Int64
	StaleConnections atomic.Int64
}

// Shared is what every connection of one server shares: the subject index,
// the counters, the logger, the random source and the server's hook for
// closed connections.
type Shared struct {
	Index *subject.Index[*Subscription]
	Stats *Stats
	Log   *logrus.Logger
	// Rand, if set, seeds each connection's own random source (drawn once,
	// on the connection's first queue-group delivery), so a seeded server
	// picks queue members reproducibly. It must be safe for concurrent
	// use. Nil: the connections use math/rand/v2's global source.
	Rand *rand.Rand
	// OnClosed is called once per connection, from the transition into
	// Closed, after the connection's subscriptions are released.
	OnClosed func(*Conn)
	// Router is the cluster (nil without one): it learns every change of
	// interest and carries local messages to the other servers. Set once,
	// before any account or connection is made.
	Router Router
	// OnConnect, if set, is called on the reader goroutine each time a
	// client's CONNECT is authenticated; OnAuthError when a client fails
	// to authenticate, once it is closing. Both must return quickly.
	OnConnect, OnAuthError func(*Conn)

	// limits are the reloadable limits in force (see [Shared.SetLimits]).
	limits atomic.Pointer[Limits]
	// maxSubsLogged is when a SUB over max_subscriptions was last logged
	// (unix nanoseconds).
	maxSubsLogged atomic.Int64

	// Security is the authentication the server requires, replaced
	// atomically on reload (see auth.go); nil requires none.
	Security atomic.Pointer[Security]
	// Accounts are the server's accounts, replaced atomically on reload
	// (see account.go). Nil: one global account whose index is Index.
	Accounts atomic.Pointer[Accounts]

	fallbackOnce sync.Once
	fallback     *Accounts
}

// accounts returns the server's accounts.
func (sh *Shared) accounts() *Accounts {
	if r := sh.Accounts.Load(); r != nil {
		return r
	}
	sh.fallbackOnce.Do(func() {
		sh.fallback, _ = NewAccounts(account.Config{}, "", sh.Index, nil, sh.Router)
	})
	return sh.fallback
}
