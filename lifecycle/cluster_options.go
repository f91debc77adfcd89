package lifecycle

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/natsd/natsd/route"
)

// ClusterOptions configure the server's cluster membership, with
// nats-server's names (the cluster {} block and the --cluster, --routes,
// --cluster_name, --no_advertise, --cluster_advertise flags). A zero Port
// means no cluster.
type ClusterOptions struct {
	Name string
	Host string
	Port int // 0: no cluster; RandomPort (-1): a random free port
	// Advertise, "host[:port]", is what the other servers are told to dial.
	Advertise string
	// Routes are the explicit routes, as nats-route:// URLs.
	Routes []string
	// NoAdvertise keeps client URLs out of the route INFO and the other
	// servers' URLs out of the clients' INFO.
	NoAdvertise    bool
	ConnectRetries int
	ConnectBackoff bool
	// PoolSize may only be unset (0) or negative: natsd speaks the unpooled
	// route protocol, as a nats-server with pool_size -1.
	PoolSize int
	// Compression may only be "" or "off" ("disabled", "false").
	Compression string
	// Username and Password (cluster.authorization) are required from the
	// routes that dial this server, within AuthTimeout.
	Username     string
	Password     string
	AuthTimeout  time.Duration
	PingInterval time.Duration
	PingMax      int
	// TLS (a tls {} block in the cluster block) secures every route, as
	// nats-server's cluster TLS: the handshake comes first, before any
	// INFO, and both sides present a certificate. TLSCert and TLSKey are
	// this server's certificate for both ends of a route; TLSCACert (the
	// system roots without it) verifies the remote's, whatever TLSVerify
	// says (nats-server's route TLS always verifies; verify is read and
	// changes nothing). TLSTimeout bounds the handshake (default 2 s). A
	// reload applies them to the routes that connect afterwards.
	TLS        bool
	TLSCert    string
	TLSKey     string
	TLSCACert  string
	TLSVerify  bool
	TLSTimeout time.Duration
}

// Enabled reports whether the options configure a cluster.
func (c *ClusterOptions) Enabled() bool { return c.Port != 0 }

// setDefaults fills the cluster defaults: like nats-server, the route
// listener binds every interface unless told otherwise.
func (c *ClusterOptions) setDefaults() {
	if !c.Enabled() {
		return
	}
	if c.Host == "" {
		c.Host = DefaultHost
	}
	if c.TLSTimeout == 0 {
		c.TLSTimeout = DefaultTLSTimeout
	}
}

// validate reports the first cluster option that cannot work, naming it.
func (c *ClusterOptions) validate() error {
	if c.Port < RandomPort || c.Port > 65535 {
		return fmt.Errorf("cluster.port: %d is not a port number (1-65535, or -1 for a random port)", c.Port)
	}
	if !c.Enabled() {
		if len(c.Routes) > 0 {
			return fmt.Errorf("cluster.routes: routes need a cluster listener (cluster.listen, cluster.port or --cluster)")
		}
		return nil
	}
	switch {
	case c.TLS && c.TLSCert != "" && c.TLSKey == "":
		return fmt.Errorf("cluster.tls: missing 'key_file' in TLS configuration")
	case c.TLS && c.TLSCert == "" && c.TLSKey != "":
		return fmt.Errorf("cluster.tls: missing 'cert_file' in TLS configuration")
	case c.TLS && c.TLSCert == "":
		return fmt.Errorf("cluster.tls: a certificate and its key are required (cert_file and key_file): a route presents it to both sides")
	case c.TLSTimeout < 0:
		return fmt.Errorf("cluster.tls.timeout: must not be negative, got %v", c.TLSTimeout)
	case c.Name == "":
		return fmt.Errorf("cluster.name: a cluster name is required (cluster.name or --cluster_name); natsd does not generate one")
	case strings.ContainsAny(c.Name, " \t\r\n"):
		return fmt.Errorf("cluster.name: cluster name cannot contain spaces or new lines")
	case c.Name == "_":
		return fmt.Errorf("cluster.name: cluster name %q is reserved", c.Name)
	case c.PoolSize > 0:
		return fmt.Errorf("cluster.pool_size: natsd speaks only the unpooled route protocol (as pool_size -1); %d is not supported", c.PoolSize)
	case c.ConnectRetries < 0:
		return fmt.Errorf("cluster.connect_retries: must not be negative, got %d", c.ConnectRetries)
	case c.PingInterval < 0 || c.PingMax < 0 || c.AuthTimeout < 0:
		return fmt.Errorf("cluster.ping_interval, cluster.ping_max and cluster.authorization.timeout must not be negative")
	}
	switch strings.ToLower(c.Compression) {
	case "", "off", "disabled", "false":
	default:
		return fmt.Errorf("cluster.compression: natsd does not compress routes; %q is not supported (use off)", c.Compression)
	}
	if c.Advertise != "" {
		if _, _, err := splitAdvertise(c.Advertise); err != nil {
			return fmt.Errorf("cluster.advertise: %v", err)
		}
	}
	for _, r := range c.Routes {
		if _, err := route.ParseRouteURL(r); err != nil {
			return fmt.Errorf("cluster.routes: %v", err)
		}
	}
	return nil
}

// splitAdvertise reads "host[:port]".
func splitAdvertise(s string) (string, int, error) {
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("%q: %q is not a port number", s, p)
		}
		return h, n, nil
	}
	if strings.Contains(s, "/") {
		return "", 0, fmt.Errorf("%q is not host[:port]", s)
	}
	return s, 0, nil
}

// clusterFixed is what a reload may not change: every cluster option but
// the routes, connect_retries, connect_backoff, ping_interval, ping_max
// and tls. It prints without the password.
type clusterFixed struct {
	Name, Host         string
	Port               int
	Advertise          string
	NoAdvertise        bool
	PoolSize           int
	Compression        string
	Username, Password string
	AuthTimeout        time.Duration
}

func (f clusterFixed) String() string {
	pass := ""
	if f.Password != "" {
		pass = "(set)"
	}
	return fmt.Sprintf("{name %q listen %s advertise %q no_advertise %v pool_size %d compression %q user %q password %s timeout %v}",
		f.Name, net.JoinHostPort(f.Host, strconv.Itoa(f.Port)), f.Advertise, f.NoAdvertise, f.PoolSize, f.Compression,
		f.Username, pass, f.AuthTimeout)
}

func (c *ClusterOptions) fixed() clusterFixed {
	return clusterFixed{c.Name, c.Host, c.Port, c.Advertise, c.NoAdvertise, c.PoolSize, strings.ToLower(c.Compression),
		c.Username, c.Password, c.AuthTimeout}
}

// tlsText describes the cluster tls options, for the reload log.
func (c *ClusterOptions) tlsText() string {
	if !c.TLS {
		return "{off}"
	}
	return fmt.Sprintf("{cert_file %q key_file %q ca_file %q verify %v timeout %v}", c.TLSCert, c.TLSKey, c.TLSCACert, c.TLSVerify, c.TLSTimeout)
}

// routesText lists the routes for the reload log, without passwords.
func (c *ClusterOptions) routesText() string {
	out := make([]string, 0, len(c.Routes))
	for _, r := range c.Routes {
		if u, err := route.ParseRouteURL(r); err == nil {
			out = append(out, u.Redacted())
		} else {
			out = append(out, r)
		}
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// routeURLs parses the routes (validated before).
func (c *ClusterOptions) routeURLs() []*url.URL {
	out := make([]*url.URL, 0, len(c.Routes))
	for _, r := range c.Routes {
		if u, err := route.ParseRouteURL(r); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// routesForVarz lists the routes as /varz's cluster urls: host:port, as
// nats-server lists them.
func (c *ClusterOptions) routesForVarz() []string {
	var out []string
	for _, u := range c.routeURLs() {
		out = append(out, u.Host)
	}
	return out
}

// String describes the options for logs (the reload line) without the
// password, in the route URLs too.
func (c ClusterOptions) String() string {
	if !c.Enabled() {
		return "{no cluster}"
	}
	routes := make([]string, 0, len(c.Routes))
	for _, r := range c.Routes {
		if u, err := url.Parse(r); err == nil {
			routes = append(routes, u.Redacted())
		} else {
			routes = append(routes, r)
		}
	}
	f := c.fixed()
	return fmt.Sprintf("{%s routes %v connect_retries %d connect_backoff %v ping_interval %v ping_max %d tls %s}",
		strings.TrimSuffix(strings.TrimPrefix(f.String(), "{"), "}"), routes, c.ConnectRetries, c.ConnectBackoff, c.PingInterval, c.PingMax, c.tlsText())
}
