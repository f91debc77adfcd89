package route

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults, as nats-server's.
const (
	// DefaultConnectDelay is the first wait between two failed dials of a
	// route (DEFAULT_ROUTE_CONNECT).
	DefaultConnectDelay = time.Second
	// DefaultConnectMaxDelay caps the wait when connect_backoff doubles it
	// (DEFAULT_ROUTE_CONNECT_MAX).
	DefaultConnectMaxDelay = 30 * time.Second
	// DefaultReconnectDelay is the wait before an explicit route that was
	// connected dials again (DEFAULT_ROUTE_RECONNECT), plus up to
	// reconnectJitter.
	DefaultReconnectDelay = time.Second
	// DefaultDialTimeout bounds one dial (DEFAULT_ROUTE_DIAL).
	DefaultDialTimeout = time.Second
	// DefaultAuthTimeout is how long an accepted route has to send CONNECT
	// when cluster authorization is configured (without cluster TLS; with
	// it, the TLS timeout plus a second, as nats-server's default).
	DefaultAuthTimeout = 2 * time.Second
	// DefaultTLSTimeout bounds a route's TLS handshake (TLS_TIMEOUT).
	DefaultTLSTimeout = 2 * time.Second
	// MaxPingInterval caps the route ping interval, whatever ping_interval
	// says.
	MaxPingInterval = 30 * time.Second
	// FirstPingInterval is the delay of a route's first PING (plus up to
	// 20%).
	FirstPingInterval = time.Second
	// reconnectJitter is the random part of a reconnect delay, which keeps
	// two servers that dial each other from colliding again.
	reconnectJitter = 100 * time.Millisecond
)

// Kind says how a solicited route came to be.
type Kind int

const (
	// Implicit: learnt by gossip, or accepted.
	Implicit Kind = iota
	// Explicit: listed in cluster.routes.
	Explicit
)

// Gossip modes carried in a forwarded INFO (nats-server's values, which
// travel between servers).
const (
	gossipDefault  byte = 0
	gossipDisabled byte = 1
	gossipOverride byte = 2
)

// ServerInfo is what a route INFO says about this server.
type ServerInfo struct {
	ID         string
	Name       string
	Version    string
	GoVersion  string
	GitCommit  string
	MaxPayload int
}

// Config is the cluster configuration the [Cluster] runs with. A reload
// hands a new Config to [Cluster.Reload]; only the fields documented as
// reloadable take effect.
type Config struct {
	// Name is the cluster name; a route from another cluster is refused.
	Name string
	// Host and Port are the route listener's address; Port is the bound
	// one (never -1 here).
	Host string
	Port int
	// Advertise, "host[:port]", replaces host and port in the route INFO
	// and is sent as its "ip" field.
	Advertise string
	// Routes are the explicit routes (reloadable).
	Routes []*url.URL
	// NoAdvertise leaves this server's client URLs out of its route INFO,
	// and the other servers' out of the clients' INFO.
	NoAdvertise bool
	// ConnectRetries is how many times an implicit route is dialled again
	// after a failure (reloadable).
	ConnectRetries int
	// ConnectBackoff doubles the wait between failed dials up to
	// DefaultConnectMaxDelay (reloadable).
	ConnectBackoff bool
	// Username and Password, when Username is set, are required in the
	// CONNECT of accepted routes (Password may be a bcrypt hash) within
	// AuthTimeout, and sent to gossiped servers that require them.
	Username    string
	Password    string
	AuthTimeout time.Duration
	// TLS, when set, secures every route (reloadable: routes created
	// afterwards use the new value): the TLS handshake comes first, before
	// any INFO, and must end within TLSTimeout. It is the server side's
	// configuration, which requires and verifies the remote's certificate
	// (ClientCAs); a route this server dials uses a clone with RootCAs
	// verifying the remote's and the server name of the route URL's host
	// (for an IP, the first host name of the explicit routes, as
	// nats-server does).
	TLS        *tls.Config
	TLSTimeout time.Duration
	// PingInterval (capped at MaxPingInterval) and PingMax drive the route
	// PINGs (reloadable for new routes).
	PingInterval time.Duration
	PingMax      int
	// WriteDeadline bounds one write; MaxPending is the most output a route
	// may have queued before it is closed as a slow consumer.
	WriteDeadline time.Duration
	MaxPending    int64
	// MaxControlLine is the client limit; routes accept 16 times it, as
	// nats-server's routes do.
	MaxControlLine int
	// ClientURLs are this server's client URLs (host:port), sent in the
	// route INFO's connect_urls unless NoAdvertise.
	ClientURLs []string
	// Server identifies this server.
	Server ServerInfo
}

// pingInterval is the effective route ping interval.
func (c *Config) pingInterval() time.Duration {
	d := c.PingInterval
	if d <= 0 || d > MaxPingInterval {
		d = MaxPingInterval
	}
	return d
}

func (c *Config) pingMax() int {
	if c.PingMax <= 0 {
		return 2
	}
	return c.PingMax
}

func (c *Config) authTimeout() time.Duration {
	switch {
	case c.AuthTimeout > 0:
		return c.AuthTimeout
	case c.TLS != nil:
		return c.tlsTimeout() + time.Second
	}
	return DefaultAuthTimeout
}

func (c *Config) tlsTimeout() time.Duration {
	if c.TLSTimeout <= 0 {
		return DefaultTLSTimeout
	}
	return c.TLSTimeout
}

func (c *Config) maxControlLine() int {
	if c.MaxControlLine <= 0 {
		return 16 * 4096
	}
	return 16 * c.MaxControlLine
}

// advertised returns the host, port and "ip" this server puts in its route
// INFO.
func (c *Config) advertised() (host string, port int, ip string) {
	if c.Advertise == "" {
		return c.Host, c.Port, ""
	}
	host, port = c.Host, c.Port
	if h, p, err := net.SplitHostPort(c.Advertise); err == nil {
		host = h
		if n, err := strconv.Atoi(p); err == nil {
			port = n
		}
	} else {
		host = c.Advertise
	}
	return host, port, "nats-route://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"
}

// ParseRouteURL parses one entry of cluster.routes (or --routes): a
// nats-route:// (or nats://) URL with a host and a port, optionally with
// user:password.
func ParseRouteURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("route URL %q: %v", s, err)
	}
	switch u.Scheme {
	case "nats-route", "nats", "route":
	default:
		return nil, fmt.Errorf("route URL %q: the scheme must be nats-route://", s)
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("route URL %q: a host and a port are required", s)
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		return nil, fmt.Errorf("route URL %q: %q is not a port number", s, u.Port())
	}
	return u, nil
}

// sameURL reports whether two route URLs name the same route: same host
// and port (case-insensitive) and same user information.
func sameURL(a, b *url.URL) bool {
	if a == nil || b == nil {
		return a == b
	}
	return strings.EqualFold(a.Host, b.Host) && a.User.String() == b.User.String()
}

// redacted is a URL for logs, without its password.
func redacted(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Redacted()
}
