package monitor

import (
	"net/http"
	"time"
)

// The endpoints of features natsd does not run (yet): leaf nodes,
// gateways and JetStream. Each answers as
// nats-server v2.15.2 answers when the feature is not configured, with
// its field names in its order, so exporters and dashboards that poll
// every endpoint read "none" rather than a missing page.

// Leafz is the /leafz answer without leaf nodes.
type Leafz struct {
	ID       string     `json:"server_id"`
	Now      time.Time  `json:"now"`
	NumLeafs int        `json:"leafnodes"`
	Leafs    []struct{} `json:"leafs"`
}

// Gatewayz is the /gatewayz answer without gateways.
type Gatewayz struct {
	ID               string              `json:"server_id"`
	Now              time.Time           `json:"now"`
	OutboundGateways map[string]struct{} `json:"outbound_gateways"`
	InboundGateways  map[string]struct{} `json:"inbound_gateways"`
}

// JSInfo is the /jsz answer with JetStream disabled.
type JSInfo struct {
	Memory         uint64     `json:"memory"`
	Store          uint64     `json:"storage"`
	ReservedMemory uint64     `json:"reserved_memory"`
	ReservedStore  uint64     `json:"reserved_storage"`
	Accounts       int        `json:"accounts"`
	HAAssets       int        `json:"ha_assets"`
	API            JSAPIStats `json:"api"`
	ID             string     `json:"server_id"`
	Now            time.Time  `json:"now"`
	Disabled       bool       `json:"disabled"`
	Config         JSConfig   `json:"config"`
	Streams        int        `json:"streams"`
	Consumers      int        `json:"consumers"`
	Messages       uint64     `json:"messages"`
	Bytes          uint64     `json:"bytes"`
	TotalAccounts  int        `json:"total"`
}

// JSAPIStats are the JetStream API counters of /jsz.
type JSAPIStats struct {
	Level  int    `json:"level"`
	Total  uint64 `json:"total"`
	Errors uint64 `json:"errors"`
}

// JSConfig is the JetStream limits of /jsz.
type JSConfig struct {
	MaxMemory int64 `json:"max_memory"`
	MaxStore  int64 `json:"max_storage"`
}

func (m *Monitor) handleLeafz(w http.ResponseWriter, _ *http.Request) {
	m.count(LeafzPath)
	writeJSON(w, http.StatusOK, Leafz{ID: m.src.Config().ServerID, Now: m.now().UTC(), Leafs: []struct{}{}})
}

func (m *Monitor) handleGatewayz(w http.ResponseWriter, _ *http.Request) {
	m.count(GatewayzPath)
	writeJSON(w, http.StatusOK, Gatewayz{
		ID: m.src.Config().ServerID, Now: m.now().UTC(),
		OutboundGateways: map[string]struct{}{}, InboundGateways: map[string]struct{}{},
	})
}

func (m *Monitor) handleJsz(w http.ResponseWriter, _ *http.Request) {
	m.count(JszPath)
	writeJSON(w, http.StatusOK, JSInfo{ID: m.src.Config().ServerID, Now: m.now().UTC(), Disabled: true})
}
