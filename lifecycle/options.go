package lifecycle

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/natsd/natsd/internal/sdnotify"
	"github.com/sirupsen/logrus"
)

// Defaults, as nats-server's (see the facts sheet), plus natsd's own.
const (
	DefaultHost                = "0.0.0.0"
	DefaultPort                = 4222
	DefaultMaxControlLine      = 4096
	DefaultMaxPayload          = 1024 * 1024
	DefaultMaxPending          = 64 * 1024 * 1024
	DefaultWriteDeadline       = 10 * time.Second
	DefaultPingInterval        = 2 * time.Minute
	DefaultPingMax             = 2
	DefaultLameDuckDuration    = 2 * time.Minute
	DefaultLameDuckGracePeriod = 10 * time.Second
	DefaultShutdownTimeout     = 10 * time.Second
	DefaultTLSTimeout          = 2 * time.Second
	DefaultMaxClosedClients    = 10000
	DefaultSystemAccount       = "$SYS"
	// RandomPort asks for a random free port.
	RandomPort = -1
)

// Options configure a [Server]. Zero values mean "default"; call
// [Options.SetDefaults] (New does) before reading them.
type Options struct {
	Host       string
	Port       int // 0: DefaultPort; RandomPort (-1): a random free port
	ServerName string

	HTTPHost string // monitoring listener host (default: Host)
	HTTPPort int    // 0: off; -1: random
	// HTTPSPort serves monitoring over TLS (needs the TLS options).
	HTTPSPort int
	ProfPort  int // 0: off; -1: random

	// TLS for client connections: with TLS (or TLSVerify) set, every
	// client must complete a handshake within TLSTimeout after INFO.
	TLS        bool
	TLSCert    string
	TLSKey     string
	TLSCACert  string
	TLSVerify  bool
	TLSTimeout time.Duration

	PidFile      string
	PortsFileDir string

	MaxConn        int // 0: unlimited
	MaxPayload     int
	MaxControlLine int
	MaxPending     int64
	MaxSubs        int // max_subscriptions per client; 0 or -1: unlimited (as nats-server)
	WriteDeadline  time.Duration
	PingInterval   time.Duration
	PingMax        int
	// MaxTracedMsgLen truncates payloads in trace logs (0: unlimited).
	MaxTracedMsgLen int

	LameDuckDuration    time.Duration
	LameDuckGracePeriod time.Duration
	ShutdownTimeout     time.Duration

	MaxClosedClients int
	SystemAccount    string
	NoSystemAccount  bool

	// ConfigFile is the file the options were read from ("" for none); it is
	// what a reload re-reads.
	ConfigFile string

	// Log receives the server's log lines. Nil: a logger at info level on
	// stderr.
	Log *logrus.Logger `json:"-"`
	// Rand is the random source of the lame-duck spread and the queue-group
	// pick; tests inject a seeded one. Nil: a random seed.
	Rand *rand.Rand `json:"-"`
	// Notifier, if set, receives systemd notifications (READY, RELOADING,
	// STOPPING, STATUS, EXTEND_TIMEOUT_USEC, WATCHDOG); see notify.go.
	Notifier *sdnotify.Notifier `json:"-"`
	// OnApply, if set, is called when a reload with these options is
	// accepted, to apply settings the server does not own (the command's
	// logging), atomically with the server's own.
	OnApply func() `json:"-"`
	// ProgName names the ports file (<ProgName>_<pid>.ports); default: the
	// base name of os.Args[0].
	ProgName string
}

// SetDefaults fills every zero field with its default.
func (o *Options) SetDefaults() {
	if o.Host == "" {
		o.Host = DefaultHost
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.HTTPHost == "" {
		o.HTTPHost = o.Host
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.MaxControlLine == 0 {
		o.MaxControlLine = DefaultMaxControlLine
	}
	if o.MaxPending == 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.WriteDeadline == 0 {
		o.WriteDeadline = DefaultWriteDeadline
	}
	if o.PingInterval == 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.PingMax == 0 {
		o.PingMax = DefaultPingMax
	}
	if o.LameDuckDuration == 0 {
		o.LameDuckDuration = DefaultLameDuckDuration
	}
	if o.LameDuckGracePeriod == 0 && o.LameDuckDuration > DefaultLameDuckGracePeriod {
		o.LameDuckGracePeriod = DefaultLameDuckGracePeriod
	}
	if o.TLSTimeout == 0 {
		o.TLSTimeout = DefaultTLSTimeout
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.MaxClosedClients == 0 {
		o.MaxClosedClients = DefaultMaxClosedClients
	}
	if o.SystemAccount == "" && !o.NoSystemAccount {
		o.SystemAccount = DefaultSystemAccount
	}
}

// Validate reports the first option that cannot work, naming it, as one
// line.
func (o *Options) Validate() error {
	var errs []error
	if o.Port < RandomPort || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("port: %d is not a port number (1-65535, or -1 for a random port)", o.Port))
	}
	if o.HTTPPort < RandomPort || o.HTTPPort > 65535 {
		errs = append(errs, fmt.Errorf("http_port: %d is not a port number", o.HTTPPort))
	}
	if o.ProfPort < RandomPort || o.ProfPort > 65535 {
		errs = append(errs, fmt.Errorf("prof_port: %d is not a port number", o.ProfPort))
	}
	if o.HTTPSPort < RandomPort || o.HTTPSPort > 65535 {
		errs = append(errs, fmt.Errorf("https_port: %d is not a port number", o.HTTPSPort))
	}
	if (o.TLS || o.TLSVerify || o.HTTPSPort != 0) && (o.TLSCert == "" || o.TLSKey == "") {
		errs = append(errs, fmt.Errorf("tls: a certificate and its key are required (--tlscert and --tlskey, or cert_file and key_file)"))
	}
	if o.TLSVerify && o.TLSCACert == "" {
		errs = append(errs, fmt.Errorf("tls: verifying clients needs a CA certificate (--tlscacert, or ca_file)"))
	}
	if o.MaxConn < 0 {
		errs = append(errs, fmt.Errorf("max_connections: must not be negative"))
	}
	if o.MaxPayload < 0 || o.MaxControlLine < 0 || o.MaxPending < 0 {
		errs = append(errs, fmt.Errorf("max_payload, max_control_line and max_pending must not be negative"))
	}
	if o.MaxSubs < -1 {
		errs = append(errs, fmt.Errorf("max_subscriptions: %d is not a limit (0 or -1 mean unlimited)", o.MaxSubs))
	}
	if o.MaxPending > 0 && int64(o.MaxPayload) > o.MaxPending {
		errs = append(errs, fmt.Errorf("max_payload (%d) cannot be higher than max_pending (%d)", o.MaxPayload, o.MaxPending))
	}
	if o.PingInterval < 0 || o.WriteDeadline < 0 || o.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("ping_interval, write_deadline and shutdown_timeout must not be negative"))
	}
	if o.LameDuckDuration <= 0 {
		errs = append(errs, fmt.Errorf("lame_duck_duration: must be positive, got %v", o.LameDuckDuration))
	}
	if o.LameDuckGracePeriod < 0 {
		errs = append(errs, fmt.Errorf("lame_duck_grace_period: must not be negative, got %v", o.LameDuckGracePeriod))
	}
	if o.LameDuckDuration > 0 && o.LameDuckGracePeriod >= o.LameDuckDuration {
		errs = append(errs, fmt.Errorf("lame_duck_grace_period (%v) must be less than lame_duck_duration (%v)", o.LameDuckGracePeriod, o.LameDuckDuration))
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
