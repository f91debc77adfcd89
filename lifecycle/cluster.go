package lifecycle

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/listener"
	"github.com/natsd/natsd/route"
)

// clusterState is the server's membership in a cluster (the route package
// does the work); its zero value means no cluster is configured. The
// cluster is created by before_start, served from enter_listening, told
// about lame duck by the drain and closed by the shutdown after the
// clients.
type clusterState struct {
	c atomic.Pointer[route.Cluster] // nil without a cluster
	// router carries interest and messages between the accounts and the
	// routes; made by New (before the accounts) when a cluster is
	// configured.
	router *route.Router
	ln     *listener.Listener // set by before_start, read by the lifecycle loop only
	// port is the bound route port; clientURLs are this server's client
	// URLs (host:port). Both are fixed once before_start succeeded.
	port       int
	clientURLs []string
	// advertised is set once the other servers' URLs changed for the first
	// time: from then on the client INFO carries connect_urls, as
	// nats-server's does.
	advertised atomic.Bool
	// ldm is set when this server announced lame duck: its own URLs leave
	// the client INFO.
	ldm atomic.Bool
	// cfgMu serialises rebuilding the connections' Config (reload and
	// cluster changes).
	cfgMu sync.Mutex
	// tls is the routes' TLS configuration (nil without cluster TLS):
	// built by New, rebuilt by every reload.
	tls atomic.Pointer[tls.Config]
}

// bindCluster binds the route listener when a cluster is configured and
// creates the cluster; it adds the cluster URL to ports. The returned undo
// closes what was bound.
func (s *Server) bindCluster(o *Options, clientPort int, ports *Ports) (undo func(), err error) {
	if !o.Cluster.Enabled() {
		return func() {}, nil
	}
	sock, err := s.bindSocket(SocketCluster, o.Cluster.Host, o.Cluster.Port)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	ln := listener.New(sock)
	// As nats-server's ports file: tls:// with cluster TLS.
	scheme := "nats"
	if s.cl.tls.Load() != nil {
		scheme = "tls"
	}
	ports.Cluster = urlsFor(scheme, ln.Addr())
	s.cl.ln = ln
	s.cl.port = ln.Port()
	s.cl.clientURLs = clientURLs(o.Host, clientPort)
	c := route.New(s.routeConfig(o), s.log, route.Hooks{URLsChanged: s.clusterURLsChanged}, s.cl.router)
	s.cl.c.Store(c)
	return func() {
		ln.Close()
		ln.Wait()
		s.cl.c.Store(nil)
	}, nil
}

// serveCluster starts accepting and dialling routes (enter_listening).
func (s *Server) serveCluster() {
	if c := s.cl.c.Load(); c != nil {
		c.Serve(s.cl.ln)
	}
}

// routeConfig builds the route package's configuration from the options.
func (s *Server) routeConfig(o *Options) *route.Config {
	co := &o.Cluster
	ping, pingMax := co.PingInterval, co.PingMax
	if ping == 0 {
		ping = o.PingInterval
	}
	if pingMax == 0 {
		pingMax = o.PingMax
	}
	return &route.Config{
		Name:           co.Name,
		Host:           co.Host,
		Port:           s.cl.port,
		Advertise:      co.Advertise,
		Routes:         co.routeURLs(),
		NoAdvertise:    co.NoAdvertise,
		ConnectRetries: co.ConnectRetries,
		ConnectBackoff: co.ConnectBackoff,
		Username:       co.Username,
		Password:       co.Password,
		AuthTimeout:    co.AuthTimeout,
		TLS:            s.cl.tls.Load(),
		TLSTimeout:     co.TLSTimeout,
		PingInterval:   ping,
		PingMax:        pingMax,
		WriteDeadline:  o.WriteDeadline,
		MaxPending:     o.MaxPending,
		MaxControlLine: o.MaxControlLine,
		ClientURLs:     s.cl.clientURLs,
		Server: route.ServerInfo{
			ID:         s.pubKey,
			Name:       o.ServerName,
			Version:    Version,
			GoVersion:  runtime.Version(),
			MaxPayload: o.MaxPayload,
		},
	}
}

// clientURLs are the host:port URLs clients can use to reach this
// server: the listen host, or, for an unspecified host, every global
// unicast address of the machine (as nats-server's connect_urls).
func clientURLs(host string, port int) []string {
	p := strconv.Itoa(port)
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsUnspecified() {
		return []string{net.JoinHostPort(host, p)}
	}
	var out []string
	ifaces, _ := net.Interfaces()
	for _, i := range ifaces {
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() {
				out = append(out, net.JoinHostPort(n.IP.String(), p))
			}
		}
	}
	if len(out) == 0 {
		out = append(out, net.JoinHostPort("127.0.0.1", p))
	}
	return out
}

// connectURLs is the client INFO's connect_urls: nothing until the cluster
// first changed; then this server's own URLs (until it enters lame duck)
// followed by the other servers'.
func (s *Server) connectURLs() []string {
	c := s.cl.c.Load()
	if c == nil || !s.cl.advertised.Load() {
		return nil
	}
	var urls []string
	if !s.cl.ldm.Load() {
		urls = append(urls, s.cl.clientURLs...)
	}
	return append(urls, c.RemoteClientURLs()...)
}

// storeConnConfig rebuilds what new connections get.
func (s *Server) storeConnConfig(o *Options, port int) {
	s.cl.cfgMu.Lock()
	defer s.cl.cfgMu.Unlock()
	s.cfg.Store(s.connConfig(o, port))
}

// clusterURLsChanged is the cluster's hook: another server's client URLs
// arrived or left. New clients get the new connect_urls; protocol-1
// clients get an asynchronous INFO (nats-server does not send it while
// shutting down).
func (s *Server) clusterURLsChanged() {
	s.cl.advertised.Store(true)
	if st := s.State(); st == ShuttingDown || st == Stopped || st == Init {
		return
	}
	if cur := s.cfg.Load(); cur != nil {
		s.storeConnConfig(s.opts.Load(), cur.Info.Port)
	}
	urls := s.connectURLs()
	for _, c := range s.Clients() {
		c.SendAsyncInfo(urls, false)
	}
}

// announceLameDuck tells the cluster and the clients that this server is
// in lame duck, in nats-server's order: the route INFO with "ldm":true to
// every other server (so they stop advertising this one), then every
// protocol-1 client an INFO with "ldm":true listing the other servers'
// URLs only.
func (s *Server) announceLameDuck(clients []*conn.Conn) {
	c := s.cl.c.Load()
	if c == nil {
		for _, cl := range clients {
			cl.SendLameDuckInfo()
		}
		return
	}
	c.EnterLameDuck()
	s.cl.ldm.Store(true)
	var urls []string
	if !s.opts.Load().Cluster.NoAdvertise {
		urls = c.RemoteClientURLs()
	}
	for _, cl := range clients {
		cl.SendAsyncInfo(urls, true)
	}
}

// stopCluster stops accepting and dialling routes (shutdown step 1); the
// routes that are up stay up until closeRoutes.
func (s *Server) stopCluster() {
	if c := s.cl.c.Load(); c != nil {
		c.StopAccepting()
	}
}

// closeRoutes closes the routes with ServerShutdown, flushing them, and
// waits for them until deadline (at least routeCloseMin from now, so the
// routes get their flush even when the clients took the whole
// shutdown_timeout); then it closes the rest without flushing.
func (s *Server) closeRoutes(deadline time.Time) {
	c := s.cl.c.Load()
	if c == nil {
		return
	}
	if min := time.Now().Add(routeCloseMin); deadline.Before(min) {
		deadline = min
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	c.Shutdown(ctx)
}

// routeCloseMin is the least time the routes get to flush at shutdown.
const routeCloseMin = time.Second

// prepareCluster builds the routes' TLS configuration of a reload, from
// the files as they are now: a file that no longer loads refuses the
// reload.
func (s *Server) prepareCluster(p *reloadPlan) error {
	c, err := ClusterTLSConfig(p.next)
	if err != nil {
		return err
	}
	p.routeTLS = c
	return nil
}

// reloadCluster hands the reloadable cluster options, TLS included, to the
// cluster.
func (s *Server) reloadCluster(p *reloadPlan) {
	s.cl.tls.Store(p.routeTLS)
	if c := s.cl.c.Load(); c != nil {
		c.Reload(s.routeConfig(p.next))
	}
}

// Cluster returns the server's cluster, or nil when none is configured or
// before start.
func (s *Server) Cluster() *route.Cluster { return s.cl.c.Load() }

// ClusterURL returns nats-route://host:port of the route listener (a
// loopback host when it listens on every interface), or "".
func (s *Server) ClusterURL() string {
	if s.cl.c.Load() == nil {
		return ""
	}
	host := s.opts.Load().Cluster.Host
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "nats-route://" + net.JoinHostPort(host, strconv.Itoa(s.cl.port))
}
