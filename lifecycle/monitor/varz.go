package monitor

import (
	"net/http"
	"runtime"
	"time"
)

// Varz is the /varz answer: the server's identity, configuration and
// counters. Field names are nats-server's; State is natsd's own.
type Varz struct {
	ID               string            `json:"server_id"`
	Name             string            `json:"server_name"`
	Version          string            `json:"version"`
	Proto            int               `json:"proto"`
	GoVersion        string            `json:"go"`
	Host             string            `json:"host"`
	Port             int               `json:"port"`
	AuthRequired     bool              `json:"auth_required,omitempty"`
	MaxConn          int               `json:"max_connections"`
	MaxSubs          int               `json:"max_subscriptions,omitempty"`
	PingInterval     time.Duration     `json:"ping_interval"`
	MaxPingsOut      int               `json:"ping_max"`
	HTTPHost         string            `json:"http_host"`
	HTTPPort         int               `json:"http_port"`
	AuthTimeout      float64           `json:"auth_timeout"`
	MaxControlLine   int               `json:"max_control_line"`
	MaxPayload       int               `json:"max_payload"`
	MaxPending       int64             `json:"max_pending"`
	Cluster          ClusterVarz       `json:"cluster"`
	TLSTimeout       float64           `json:"tls_timeout"`
	WriteDeadline    time.Duration     `json:"write_deadline"`
	Start            time.Time         `json:"start"`
	Now              time.Time         `json:"now"`
	Uptime           string            `json:"uptime"`
	Mem              int64             `json:"mem"`
	Cores            int               `json:"cores"`
	MaxProcs         int               `json:"gomaxprocs"`
	CPU              float64           `json:"cpu"`
	Connections      int               `json:"connections"`
	TotalConnections uint64            `json:"total_connections"`
	Routes           int               `json:"routes"`
	Remotes          int               `json:"remotes"`
	Leafs            int               `json:"leafnodes"`
	InMsgs           int64             `json:"in_msgs"`
	InBytes          int64             `json:"in_bytes"`
	InClientMsgs     int64             `json:"in_client_msgs"`
	InClientBytes    int64             `json:"in_client_bytes"`
	OutMsgs          int64             `json:"out_msgs"`
	OutBytes         int64             `json:"out_bytes"`
	OutClientMsgs    int64             `json:"out_client_msgs"`
	OutClientBytes   int64             `json:"out_client_bytes"`
	SlowConsumers    int64             `json:"slow_consumers"`
	StaleConnections int64             `json:"stale_connections"`
	Subscriptions    uint32            `json:"subscriptions"`
	HTTPReqStats     map[string]uint64 `json:"http_req_stats"`
	ConfigLoadTime   time.Time         `json:"config_load_time"`
	SystemAccount    string            `json:"system_account,omitempty"`
	// SlowConsumersStats splits slow_consumers by connection kind.
	SlowConsumersStats *SlowConsumersStats `json:"slow_consumer_stats"`

	// State is the lifecycle state (natsd's own field): "listening",
	// "lame_duck", "shutting_down".
	State string `json:"state"`
}

// SlowConsumersStats counts slow consumers by kind of connection, with
// nats-server's field names.
type SlowConsumersStats struct {
	Clients  uint64 `json:"clients"`
	Routes   uint64 `json:"routes"`
	Gateways uint64 `json:"gateways"`
	Leafs    uint64 `json:"leafs"`
}

// Varz returns the current /varz data.
func (m *Monitor) Varz() *Varz {
	cfg := m.src.Config()
	st := m.src.State()
	stats := m.src.Stats()
	start := m.src.StartTime()
	now := m.now()
	// The totals count clients and routes; the client counters leave the
	// routes' share out.
	in, inB := stats.InMsgs.Load(), stats.InBytes.Load()
	out, outB := stats.OutMsgs.Load(), stats.OutBytes.Load()
	cin, cinB, cout, coutB := in, inB, out, outB
	var cluster ClusterVarz
	if rs, ok := m.src.(RouteSource); ok && rs.ClusterEnabled() {
		rin, rinB, rout, routB := rs.RouteCounts()
		cin, cinB, cout, coutB = max(in-rin, 0), max(inB-rinB, 0), max(out-rout, 0), max(outB-routB, 0)
		cluster = rs.ClusterVarz()
	}
	routes, remotes := m.routeCounts()
	mem, cpu := m.usage.measure(now)
	return &Varz{
		ID:               cfg.ServerID,
		Name:             cfg.ServerName,
		Version:          cfg.Version,
		Proto:            cfg.Proto,
		GoVersion:        runtime.Version(),
		Host:             cfg.Host,
		Port:             cfg.Port,
		AuthRequired:     cfg.AuthRequired,
		MaxConn:          cfg.MaxConn,
		MaxSubs:          max(cfg.MaxSubs, 0),
		PingInterval:     cfg.PingInterval,
		MaxPingsOut:      cfg.PingMax,
		HTTPHost:         cfg.HTTPHost,
		HTTPPort:         cfg.HTTPPort,
		AuthTimeout:      cfg.AuthTimeout.Seconds(),
		MaxControlLine:   cfg.MaxControlLine,
		MaxPayload:       cfg.MaxPayload,
		MaxPending:       cfg.MaxPending,
		Cluster:          cluster,
		TLSTimeout:       cfg.TLSTimeout.Seconds(),
		WriteDeadline:    cfg.WriteDeadline,
		Start:            start.UTC(),
		Now:              now.UTC(),
		Uptime:           formatUptime(now.Sub(start)),
		Mem:              mem,
		Cores:            runtime.NumCPU(),
		MaxProcs:         runtime.GOMAXPROCS(0),
		CPU:              cpu,
		Connections:      m.src.NumClients(),
		TotalConnections: uint64(m.src.TotalConnections()),
		Routes:           routes,
		Remotes:          remotes,
		InMsgs:           in,
		InBytes:          inB,
		InClientMsgs:     cin,
		InClientBytes:    cinB,
		OutMsgs:          out,
		OutBytes:         outB,
		OutClientMsgs:    cout,
		OutClientBytes:   coutB,
		SlowConsumers:    stats.SlowConsumers.Load(),
		StaleConnections: stats.StaleConnections.Load(),
		Subscriptions:    uint32(m.src.NumSubscriptions()),
		HTTPReqStats:     m.requestStats(),
		ConfigLoadTime:   cfg.LoadTime.UTC(),
		SystemAccount:    cfg.SystemAccount,
		SlowConsumersStats: &SlowConsumersStats{
			Clients: uint64(stats.SlowConsumers.Load()),
		},
		State: st.Name,
	}
}

func (m *Monitor) handleVarz(w http.ResponseWriter, _ *http.Request) {
	m.count(VarzPath)
	writeJSON(w, http.StatusOK, m.Varz())
}
