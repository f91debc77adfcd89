package system

import (
	"time"

	"github.com/natsd/natsd/internal/machine"
)

// The JSON the system client publishes, with nats-server's field names
// (server/events.go) and, for natsd's own events, names of the same style.

// Event types, as nats-server's schema names (natsd's own under io.natsd).
const (
	ConnectEventType      = "io.nats.server.advisory.v1.client_connect"
	DisconnectEventType   = "io.nats.server.advisory.v1.client_disconnect"
	AccountConnsEventType = "io.nats.server.advisory.v1.account_connections"
	LifecycleEventType    = "io.natsd.server.advisory.v1.lifecycle"
)

// ServerInfo identifies the server that sent a message. Seq counts the
// server's internal messages; Seq and Time are set as it is sent.
type ServerInfo struct {
	Name      string    `json:"name"`
	Host      string    `json:"host"`
	ID        string    `json:"id"`
	Cluster   string    `json:"cluster,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Version   string    `json:"ver"`
	Tags      []string  `json:"tags,omitempty"`
	JetStream bool      `json:"jetstream"`
	Flags     uint64    `json:"flags"`
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
}

// TypedEvent is the header of an advisory: its schema type, a unique id
// and when it happened.
type TypedEvent struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	Time time.Time `json:"timestamp"`
}

// ClientInfo describes a client in connect and disconnect events.
type ClientInfo struct {
	Start      *time.Time    `json:"start,omitempty"`
	Host       string        `json:"host,omitempty"`
	ID         uint64        `json:"id,omitempty"`
	Account    string        `json:"acc,omitempty"`
	User       string        `json:"user,omitempty"`
	Name       string        `json:"name,omitempty"`
	Lang       string        `json:"lang,omitempty"`
	Version    string        `json:"ver,omitempty"`
	RTT        time.Duration `json:"rtt,omitempty"`
	Server     string        `json:"server,omitempty"`
	Cluster    string        `json:"cluster,omitempty"`
	Stop       *time.Time    `json:"stop,omitempty"`
	NameTag    string        `json:"name_tag,omitempty"`
	Kind       string        `json:"kind,omitempty"`
	ClientType string        `json:"client_type,omitempty"`
}

// ConnectEventMsg is published on $SYS.ACCOUNT.<acc>.CONNECT when a client
// has authenticated.
type ConnectEventMsg struct {
	TypedEvent
	Server ServerInfo `json:"server"`
	Client ClientInfo `json:"client"`
}

// DisconnectEventMsg is published on $SYS.ACCOUNT.<acc>.DISCONNECT when a
// client is closed, and on $SYS.SERVER.<id>.CLIENT.AUTH.ERR when one fails
// to authenticate. Sent is what the client sent, Received what it was
// delivered.
type DisconnectEventMsg struct {
	TypedEvent
	Server   ServerInfo `json:"server"`
	Client   ClientInfo `json:"client"`
	Sent     DataStats  `json:"sent"`
	Received DataStats  `json:"received"`
	Reason   string     `json:"reason"`
}

// MsgBytes counts messages and their bytes.
type MsgBytes struct {
	Msgs  int64 `json:"msgs"`
	Bytes int64 `json:"bytes"`
}

// DataStats counts messages and bytes, optionally by kind of connection.
type DataStats struct {
	MsgBytes
	Gateways *MsgBytes `json:"gateways,omitempty"`
	Routes   *MsgBytes `json:"routes,omitempty"`
	Leafs    *MsgBytes `json:"leafs,omitempty"`
}

// AccountNumConns is published on $SYS.ACCOUNT.<acc>.SERVER.CONNS (and
// the older $SYS.SERVER.ACCOUNT.<acc>.CONNS) when an account's number of
// connections changes, and every 30 s while it has any.
type AccountNumConns struct {
	TypedEvent
	Server ServerInfo `json:"server"`
	AccountStat
}

// AccountStat is an account's connections and traffic on this server.
// natsd does not count traffic per account, so Sent and Received are zero.
type AccountStat struct {
	Account       string    `json:"acc"`
	Name          string    `json:"name"`
	Conns         int       `json:"conns"`
	LeafNodes     int       `json:"leafnodes"`
	TotalConns    int       `json:"total_conns"`
	NumSubs       uint32    `json:"num_subscriptions"`
	Sent          DataStats `json:"sent"`
	Received      DataStats `json:"received"`
	SlowConsumers int64     `json:"slow_consumers"`
}

// ServerStatsMsg is published on $SYS.SERVER.<id>.STATSZ and answers
// $SYS.REQ.SERVER.PING and STATSZ requests.
type ServerStatsMsg struct {
	Server ServerInfo  `json:"server"`
	Stats  ServerStats `json:"statsz"`
}

// ServerStats are the server's counters.
type ServerStats struct {
	Start               time.Time           `json:"start"`
	Mem                 int64               `json:"mem"`
	Cores               int                 `json:"cores"`
	CPU                 float64             `json:"cpu"`
	Connections         int                 `json:"connections"`
	TotalConnections    uint64              `json:"total_connections"`
	ActiveAccounts      int                 `json:"active_accounts"`
	NumSubs             uint32              `json:"subscriptions"`
	Sent                DataStats           `json:"sent"`
	SentToClients       DataStats           `json:"sent_to_clients"`
	Received            DataStats           `json:"received"`
	ReceivedFromClients DataStats           `json:"received_from_clients"`
	SlowConsumers       int64               `json:"slow_consumers"`
	SlowConsumersStats  *SlowConsumersStats `json:"slow_consumer_stats,omitempty"`
	StaleConnections    int64               `json:"stale_connections,omitempty"`
	Routes              []*RouteStat        `json:"routes,omitempty"`
	ActiveServers       int                 `json:"active_servers,omitempty"`
	MaxProcs            int                 `json:"gomaxprocs,omitempty"`
}

// SlowConsumersStats counts slow consumers by kind of connection.
type SlowConsumersStats struct {
	Clients  uint64 `json:"clients"`
	Routes   uint64 `json:"routes"`
	Gateways uint64 `json:"gateways"`
	Leafs    uint64 `json:"leafs"`
}

// RouteStat is one route's traffic in STATSZ.
type RouteStat struct {
	ID       uint64    `json:"rid"`
	Name     string    `json:"name,omitempty"`
	Sent     DataStats `json:"sent"`
	Received DataStats `json:"received"`
	Pending  int       `json:"pending"`
}

// ServerID is the IDZ answer.
type ServerID struct {
	Name string `json:"name"`
	Host string `json:"host"`
	ID   string `json:"id"`
}

// ServerAPIResponse is the envelope of every answer but IDZ and STATSZ:
// the server, and either the data or an error.
type ServerAPIResponse struct {
	Server *ServerInfo `json:"server"`
	Data   any         `json:"data,omitempty"`
	Error  *APIError   `json:"error,omitempty"`
}

// APIError is a failed request's error.
type APIError struct {
	Code        int    `json:"code"`
	Description string `json:"description,omitempty"`
}

// EventFilterOptions are the filters every request may carry: a server
// that does not match them does not answer. Without ExactMatch, Name, Host
// and Cluster match as substrings.
type EventFilterOptions struct {
	Name       string   `json:"server_name,omitempty"`
	Cluster    string   `json:"cluster,omitempty"`
	Host       string   `json:"host,omitempty"`
	ExactMatch bool     `json:"exact_match,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Domain     string   `json:"domain,omitempty"`
}

// LifecycleEventMsg is natsd's own event, published on
// $SYS.SERVER.<id>.LIFECYCLE for every transition of the server's state
// machine: the record /lifecyclez shows (from, to, event, cause, at).
type LifecycleEventMsg struct {
	TypedEvent
	Server ServerInfo `json:"server"`
	machine.Transition
}

// HealthStatus is the HEALTHZ answer's data: /healthz's, with the HTTP
// status code.
type HealthStatus struct {
	Status     string `json:"status"`
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
}

// DrainPlan answers natsd's whole-server lame-duck request: what the drain
// under way will do. Clients are closed one by one from ClosesFrom until
// about ExpectedEnd; the system account's clients are left to the shutdown
// that ends the drain, so that they see it through.
type DrainPlan struct {
	State         string        `json:"state"`
	Clients       int           `json:"clients"`
	SystemClients int           `json:"system_clients"`
	Start         time.Time     `json:"start"`
	GracePeriod   time.Duration `json:"grace_period"`
	Duration      time.Duration `json:"duration"`
	ClosesFrom    time.Time     `json:"closes_from"`
	ExpectedEnd   time.Time     `json:"expected_end"`
}
