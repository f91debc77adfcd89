package monitor

import (
	"fmt"
	"net/http"
	"time"
)

// The endpoints of features natsd does not run (yet): routes, leaf nodes,
// gateways, JetStream, and accounts beyond the global one. Each answers as
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

// Accountz is the /accountz answer: the accounts natsd has (the global
// account, and the system account unless it is turned off), or one
// account's detail with ?acc=NAME.
type Accountz struct {
	ID            string       `json:"server_id"`
	Now           time.Time    `json:"now"`
	SystemAccount string       `json:"system_account,omitempty"`
	Accounts      []string     `json:"accounts,omitempty"`
	Account       *AccountInfo `json:"account_detail,omitempty"`
}

// AccountInfo is one account's detail in /accountz.
type AccountInfo struct {
	AccountName string    `json:"account_name"`
	LastUpdate  time.Time `json:"update_time"`
	IsSystem    bool      `json:"is_system,omitempty"`
	Expired     bool      `json:"expired"`
	Complete    bool      `json:"complete"`
	JetStream   bool      `json:"jetstream_enabled"`
	LeafCnt     int       `json:"leafnode_connections"`
	ClientCnt   int       `json:"client_connections"`
	SubCnt      uint32    `json:"subscriptions"`
}

// GlobalAccount is the name of the account every client is in while
// natsd has no accounts of its own, as nats-server names it.
const GlobalAccount = "$G"

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

// Accountz returns the /accountz answer for acc ("" for the list), or the
// error nats-server gives for an account that does not exist.
func (m *Monitor) Accountz(acc string) (*Accountz, error) {
	cfg := m.src.Config()
	a := &Accountz{ID: cfg.ServerID, Now: m.now().UTC(), SystemAccount: cfg.SystemAccount}
	if acc == "" {
		a.Accounts = []string{GlobalAccount}
		if cfg.SystemAccount != "" {
			a.Accounts = append(a.Accounts, cfg.SystemAccount)
		}
		return a, nil
	}
	info := &AccountInfo{AccountName: acc, LastUpdate: m.src.StartTime().UTC(), Complete: true}
	switch {
	case acc == GlobalAccount:
		info.ClientCnt = m.src.NumClients()
		info.SubCnt = uint32(m.src.NumSubscriptions())
	case acc == cfg.SystemAccount:
		info.IsSystem = true
	default:
		return nil, fmt.Errorf("Account %s does not exist", acc)
	}
	a.Account = info
	return a, nil
}

func (m *Monitor) handleAccountz(w http.ResponseWriter, r *http.Request) {
	m.count(AccountzPath)
	a, err := m.Accountz(r.URL.Query().Get("acc"))
	if err != nil {
		// nats-server answers an unknown account with its error as plain
		// text.
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, a)
}
