package monitor

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/route"
)

// RouteSource is what /routez and the route part of /lifecyclez read from
// a server with a cluster. A [Source] that does not implement it has no
// routes. Like Source, every method must be safe from any goroutine and
// must not block on the server's lifecycle.
type RouteSource interface {
	// ClusterEnabled reports whether a cluster is configured.
	ClusterEnabled() bool
	// Routes returns the registered routes, by route id.
	Routes() []route.Snapshot
	// RouteStates counts the routes by state, indexed like
	// route.StateNames(); the last (closed) is every route ever closed.
	RouteStates() []int64
	// RouteClosedCounts counts closed routes per close reason.
	RouteClosedCounts() []int64
	// RouteHistory returns the last route transitions, oldest first.
	RouteHistory() []route.Transition
	// RouteCounts returns the messages and payload bytes received from
	// and sent to routes since start (part of [conn.Stats]' totals).
	RouteCounts() (inMsgs, inBytes, outMsgs, outBytes int64)
	// ClusterVarz returns /varz's cluster section.
	ClusterVarz() ClusterVarz
}

// ClusterVarz is /varz's cluster section, with nats-server's field names
// (ClusterOptsVarz). PoolSize is -1: natsd's routes are unpooled, as a
// nats-server's with pool_size -1. TLSRequired and TLSVerify are both set
// with cluster TLS, as nats-server sets them.
type ClusterVarz struct {
	Name        string   `json:"name,omitempty"`
	Host        string   `json:"addr,omitempty"`
	Port        int      `json:"cluster_port,omitempty"`
	AuthTimeout float64  `json:"auth_timeout,omitempty"`
	URLs        []string `json:"urls,omitempty"`
	TLSTimeout  float64  `json:"tls_timeout,omitempty"`
	TLSRequired bool     `json:"tls_required,omitempty"`
	TLSVerify   bool     `json:"tls_verify,omitempty"`
	PoolSize    int      `json:"pool_size,omitempty"`
}

// Routez is the /routez answer, with nats-server's field names.
type Routez struct {
	ID        string       `json:"server_id"`
	Name      string       `json:"server_name"`
	Now       time.Time    `json:"now"`
	NumRoutes int          `json:"num_routes"`
	Routes    []*RouteInfo `json:"routes"`
}

// RouteInfo is one route in /routez.
type RouteInfo struct {
	Rid          uint64    `json:"rid"`
	RemoteID     string    `json:"remote_id"`
	RemoteName   string    `json:"remote_name"`
	DidSolicit   bool      `json:"did_solicit"`
	IsConfigured bool      `json:"is_configured"`
	IP           string    `json:"ip"`
	Port         int       `json:"port"`
	Start        time.Time `json:"start"`
	LastActivity time.Time `json:"last_activity"`
	RTT          string    `json:"rtt,omitempty"`
	Uptime       string    `json:"uptime"`
	Idle         string    `json:"idle"`
	Pending      int       `json:"pending_size"`
	InMsgs       int64     `json:"in_msgs"`
	OutMsgs      int64     `json:"out_msgs"`
	InBytes      int64     `json:"in_bytes"`
	OutBytes     int64     `json:"out_bytes"`
	NumSubs      uint32    `json:"subscriptions"`
	Subs         []string  `json:"subscriptions_list,omitempty"`
	Compression  string    `json:"compression,omitempty"`
}

// Routez returns the current /routez data; subs adds each route's
// subscriptions_list.
func (m *Monitor) Routez(subs bool) *Routez {
	cfg := m.src.Config()
	now := m.now().UTC()
	rz := &Routez{ID: cfg.ServerID, Name: cfg.ServerName, Now: now, Routes: []*RouteInfo{}}
	rs, ok := m.src.(RouteSource)
	if !ok {
		return rz
	}
	for _, r := range rs.Routes() {
		ri := &RouteInfo{
			Rid:          r.RID,
			RemoteID:     r.RemoteID,
			RemoteName:   r.RemoteName,
			DidSolicit:   r.DidSolicit,
			IsConfigured: r.IsConfigured,
			IP:           r.IP,
			Port:         r.Port,
			Start:        r.Start.UTC(),
			LastActivity: r.LastActivity.UTC(),
			RTT:          formatRTT(r.RTT),
			Uptime:       formatUptime(now.Sub(r.Start)),
			Idle:         formatUptime(now.Sub(r.LastActivity)),
			Pending:      r.Pending,
			InMsgs:       r.InMsgs,
			OutMsgs:      r.OutMsgs,
			InBytes:      r.InBytes,
			OutBytes:     r.OutBytes,
			NumSubs:      uint32(len(r.Subs)),
			Compression:  r.Compression,
		}
		if subs && len(r.Subs) > 0 {
			ri.Subs = r.Subs
		}
		rz.Routes = append(rz.Routes, ri)
	}
	rz.NumRoutes = len(rz.Routes)
	return rz
}

func (m *Monitor) handleRoutez(w http.ResponseWriter, r *http.Request) {
	m.count(RoutezPath)
	subs := false
	switch s := r.URL.Query().Get("subs"); strings.ToLower(s) {
	case "":
	case "detail":
		subs = true
	default:
		var err error
		if subs, err = strconv.ParseBool(s); err != nil {
			badRequest(w, fmt.Errorf("invalid subs: %q is not a boolean", s))
			return
		}
	}
	writeJSON(w, http.StatusOK, m.Routez(subs))
}

// RouteLifecycle is the route part of /lifecyclez (natsd's own): how many
// routes are in each state of the route machine, the closed ones by close
// reason, and the last route transitions.
type RouteLifecycle struct {
	States        map[string]int64   `json:"states"`
	ClosedReasons map[string]int64   `json:"closed_reasons"`
	Transitions   []route.Transition `json:"transitions"`
}

// routeLifecycle returns the route part of /lifecyclez, or nil without a
// cluster.
func (m *Monitor) routeLifecycle() *RouteLifecycle {
	rs, ok := m.src.(RouteSource)
	if !ok || !rs.ClusterEnabled() {
		return nil
	}
	rl := &RouteLifecycle{States: map[string]int64{}, ClosedReasons: map[string]int64{}, Transitions: []route.Transition{}}
	names := route.StateNames()
	for i, n := range rs.RouteStates() {
		if i < len(names) {
			rl.States[names[i]] = n
		}
	}
	for r, n := range rs.RouteClosedCounts() {
		if n > 0 {
			rl.ClosedReasons[conn.ClosedState(r).String()] += n
		}
	}
	for _, t := range rs.RouteHistory() {
		t.At = t.At.UTC()
		rl.Transitions = append(rl.Transitions, t)
	}
	return rl
}

// routeCounts returns /varz's routes and remotes.
func (m *Monitor) routeCounts() (routes, remotes int) {
	if rs, ok := m.src.(RouteSource); ok {
		n := len(rs.Routes())
		return n, n
	}
	return 0, 0
}
