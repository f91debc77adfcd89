package conn

import (
	"crypto/tls"
	"sync/atomic"
	"time"

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
	MaxPayload   int      `json:"max_payload"`
	ClientID     uint64   `json:"client_id,omitempty"`
	ClientIP     string   `json:"client_ip,omitempty"`
	TLSRequired  bool     `json:"tls_required,omitempty"`
	TLSVerify    bool     `json:"tls_verify,omitempty"`
	ConnectURLs  []string `json:"connect_urls,omitempty"`
	LameDuckMode bool     `json:"ldm,omitempty"`
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
// the counters, the logger and the server's hook for closed connections.
type Shared struct {
	Index *subject.Index[*Subscription]
	Stats *Stats
	Log   *logrus.Logger
	// OnClosed is called once per connection, from the transition into
	// Closed, after the connection's subscriptions are released.
	OnClosed func(*Conn)

	// limits are the reloadable limits in force (see [Shared.SetLimits]).
	limits atomic.Pointer[Limits]
	// maxSubsLogged is when a SUB over max_subscriptions was last logged
	// (unix nanoseconds).
	maxSubsLogged atomic.Int64
}
