package lifecycle

import (
	"time"

	"github.com/natsd/natsd/account"
	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/lifecycle/monitor"
	"github.com/natsd/natsd/route"
)

// monitorSource is what the monitoring endpoints read from the server;
// every method reads atomics or takes s.mu only to copy.
type monitorSource struct {
	s        *Server
	httpPort int // the bound monitoring port
}

var _ monitor.Source = monitorSource{}

func (m monitorSource) Config() monitor.Config {
	s := m.s
	o := s.opts.Load()
	port := o.Port
	if cfg := s.cfg.Load(); cfg != nil {
		port = cfg.Info.Port
	}
	sec := s.shared.Security.Load()
	return monitor.Config{
		ServerID:       s.pubKey,
		ServerName:     o.ServerName,
		Version:        Version,
		Proto:          1,
		Host:           o.Host,
		Port:           port,
		AuthRequired:   sec.Auth.AnnounceRequired(),
		AuthTimeout:    sec.Timeout,
		TLSTimeout:     o.TLSTimeout,
		HTTPHost:       o.HTTPHost,
		HTTPPort:       m.httpPort,
		MaxConn:        o.MaxConn,
		MaxSubs:        o.MaxSubs,
		MaxPayload:     o.MaxPayload,
		MaxControlLine: o.MaxControlLine,
		MaxPending:     o.MaxPending,
		PingInterval:   o.PingInterval,
		PingMax:        o.PingMax,
		WriteDeadline:  o.WriteDeadline,
		LoadTime:       m.configLoadTime(),
		SystemAccount:  o.systemAccount(),
	}
}

// configLoadTime is when the running options took effect: the last
// accepted reload, or the start.
func (m monitorSource) configLoadTime() time.Time {
	h := m.s.History()
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Event == EventReload || h[i].Event == EventStart {
			return h[i].At
		}
	}
	return m.s.StartTime()
}

// State is ready while the server serves new clients; and, after a
// handoff, for the last requests this process had accepted: the sockets'
// new owner serves, and that is what a probe of the address asks about.
func (m monitorSource) State() monitor.State {
	cur := m.s.current.Load()
	ready := cur.State == Listening || cur.State == Upgrading || (cur.State == LameDuck && cur.Event == EventHandoff)
	return monitor.State{Name: cur.State.String(), Since: cur.Since, Ready: ready}
}

func (m monitorSource) History() []monitor.Transition { return m.s.History() }

func (m monitorSource) Stats() *conn.Stats      { return m.s.Stats() }
func (m monitorSource) StartTime() time.Time    { return m.s.StartTime() }
func (m monitorSource) TotalConnections() int64 { return m.s.TotalConnections() }
func (m monitorSource) NumSubscriptions() int   { return m.s.NumSubscriptions() }
func (m monitorSource) NumClients() int         { return m.s.NumClients() }
func (m monitorSource) Closed() []conn.Snapshot { return m.s.Closed() }
func (m monitorSource) ClosedCounts() []int64   { return m.s.closedBy.counts() }

func (m monitorSource) ConnStates() (open, closing int) {
	for _, c := range m.s.Clients() {
		switch c.State() {
		case conn.Open:
			open++
		case conn.Closing:
			closing++
		}
	}
	return open, closing
}

// Open snapshots the registered connections, leaving out one that has
// just reached Closed and is on its way to the closed ring (so
// state=any never lists a connection twice).
func (m monitorSource) Open() []conn.Snapshot {
	clients := m.s.Clients()
	out := make([]conn.Snapshot, 0, len(clients))
	for _, c := range clients {
		if snap := c.Snapshot(); snap.State != conn.Closed {
			out = append(out, snap)
		}
	}
	return out
}

var _ monitor.AccountSource = monitorSource{}

func (m monitorSource) Accounts() *conn.Accounts      { return m.s.shared.Accounts.Load() }
func (m monitorSource) AccountConfig() account.Config { return m.s.opts.Load().Accounts }

var _ monitor.RouteSource = monitorSource{}

func (m monitorSource) ClusterEnabled() bool { return m.s.Cluster() != nil }

func (m monitorSource) Routes() []route.Snapshot {
	if c := m.s.Cluster(); c != nil {
		return c.Routes()
	}
	return nil
}

func (m monitorSource) RouteStates() []int64 {
	c := m.s.Cluster()
	if c == nil {
		return nil
	}
	n := c.StateCounts()
	return n[:]
}

func (m monitorSource) RouteClosedCounts() []int64 {
	if c := m.s.Cluster(); c != nil {
		return c.ClosedCounts()
	}
	return nil
}

func (m monitorSource) RouteCounts() (inMsgs, inBytes, outMsgs, outBytes int64) {
	if c := m.s.Cluster(); c != nil {
		return c.Counts()
	}
	return 0, 0, 0, 0
}

func (m monitorSource) ClusterVarz() monitor.ClusterVarz {
	c := m.s.Cluster()
	if c == nil {
		return monitor.ClusterVarz{}
	}
	o := m.s.opts.Load().Cluster
	return monitor.ClusterVarz{
		Name:        c.Name(),
		Host:        o.Host,
		Port:        m.s.cl.port,
		AuthTimeout: o.AuthTimeout.Seconds(),
		URLs:        o.routesForVarz(),
		TLSTimeout:  o.TLSTimeout.Seconds(),
		TLSRequired: o.TLS,
		TLSVerify:   o.TLS,
		PoolSize:    -1,
	}
}

func (m monitorSource) RouteHistory() []route.Transition {
	if c := m.s.Cluster(); c != nil {
		return c.History()
	}
	return nil
}
