package lifecycle

import (
	"fmt"
	"strings"
	"time"

	"github.com/natsd/natsd/account"
	"github.com/natsd/natsd/auth"
)

// Defaults, as nats-server's (see the facts sheet), plus natsd's own.
const (
	DefaultHost                = "0.0.0.0"
	DefaultPort                = 4222
	DefaultMaxConnections      = 64 * 1024
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
	// DefaultUpgradeTimeout is how long an upgrade waits for the new
	// process to be ready (natsd's own option; tableflip's default).
	DefaultUpgradeTimeout = time.Minute
	// RandomPort asks for a random free port.
	RandomPort = -1
)

// Options configure a [Server]: what an operator sets in the config file or
// on the command line, and nothing else (what the server runs with, such as
// its logger, is in [Deps]). Zero values mean "default"; call
// [Options.SetDefaults] (New does) before reading them. A reload replaces
// the whole value.
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
	// TLSHandshakeFirst (tls { handshake_first }) starts TLS before INFO;
	// AllowNonTLS (allow_non_tls) lets clients choose TLS or not.
	TLSHandshakeFirst bool
	AllowNonTLS       bool

	// Auth is the authentication and authorization configuration (see
	// auth.go). Never logged: it holds secrets.
	Auth auth.Config `json:"-"`
	// Accounts are the configured accounts, their exports and imports
	// (see accounts.go); their users are in Auth.
	Accounts account.Config `json:"-"`

	PidFile      string
	PortsFileDir string

	MaxConn        int // 0: DefaultMaxConnections
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
	// UpgradeTimeout (upgrade_timeout, natsd's own) bounds how long an
	// upgrade waits for the new process to report ready before it kills
	// it and goes on serving.
	UpgradeTimeout time.Duration

	MaxClosedClients int
	SystemAccount    string
	NoSystemAccount  bool

	// Cluster configures the routes to other servers (cluster_options.go).
	Cluster ClusterOptions

	// ConfigFile is the file the options were read from ("" for none); it is
	// what a reload re-reads.
	ConfigFile string
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
	if o.MaxConn == 0 {
		o.MaxConn = DefaultMaxConnections
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
	if o.UpgradeTimeout == 0 {
		o.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if o.MaxClosedClients == 0 {
		o.MaxClosedClients = DefaultMaxClosedClients
	}
	if o.SystemAccount == "" && !o.NoSystemAccount {
		o.SystemAccount = DefaultSystemAccount
	}
	o.Cluster.setDefaults()
}

// Validate reports every option that cannot work, each naming the option,
// as one [ValidationError]; nil when all of them can.
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
	if o.UpgradeTimeout < 0 {
		errs = append(errs, fmt.Errorf("upgrade_timeout: must not be negative, got %v", o.UpgradeTimeout))
	}
	if err := o.validateAuth(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Cluster.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return ValidationError(errs)
	}
	return nil
}

// ValidationError lists every problem [Options.Validate] found, in the
// order of the options. Its text is one line, the problems joined by "; ",
// so the command can print it as it prints any other error; errors.Is and
// errors.As see each problem.
type ValidationError []error

func (e ValidationError) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e ValidationError) Unwrap() []error { return e }
