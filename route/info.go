package route

import (
	"encoding/json"
	"runtime"
)

// Proto is the route protocol version natsd announces: 2, route INFO
// updates, without message tracing (which nats-server then never asks of
// it).
const Proto = 2

// Info is a route INFO's JSON, with nats-server's field names. It carries
// every field a nats-server peer may send that natsd reads or forwards in
// gossip; others are dropped, as nats-server drops what it does not know.
type Info struct {
	ID            string          `json:"server_id"`
	Name          string          `json:"server_name"`
	Version       string          `json:"version"`
	Proto         int             `json:"proto"`
	GitCommit     string          `json:"git_commit,omitempty"`
	GoVersion     string          `json:"go"`
	Host          string          `json:"host"`
	Port          int             `json:"port"`
	Headers       bool            `json:"headers"`
	AuthRequired  bool            `json:"auth_required,omitempty"`
	TLSRequired   bool            `json:"tls_required,omitempty"`
	TLSVerify     bool            `json:"tls_verify,omitempty"`
	MaxPayload    int             `json:"max_payload"`
	JetStream     bool            `json:"jetstream,omitempty"`
	IP            string          `json:"ip,omitempty"`
	Nonce         string          `json:"nonce,omitempty"`
	Cluster       string          `json:"cluster,omitempty"`
	Dynamic       bool            `json:"cluster_dynamic,omitempty"`
	Domain        string          `json:"domain,omitempty"`
	ConnectURLs   []string        `json:"connect_urls,omitempty"`
	WSConnectURLs []string        `json:"ws_connect_urls,omitempty"`
	LameDuckMode  bool            `json:"ldm,omitempty"`
	Compression   string          `json:"compression,omitempty"`
	Import        json.RawMessage `json:"import,omitempty"`
	Export        json.RawMessage `json:"export,omitempty"`
	LNOC          bool            `json:"lnoc,omitempty"`
	LNOCU         bool            `json:"lnocu,omitempty"`
	LN            bool            `json:"ln,omitempty"`
	RoutePoolSize int             `json:"route_pool_size,omitempty"`
	RoutePoolIdx  int             `json:"route_pool_idx,omitempty"`
	RouteAccount  string          `json:"route_account,omitempty"`
	RouteAccReqID string          `json:"route_acc_add_reqid,omitempty"`
	GossipMode    byte            `json:"gossip_mode,omitempty"`
	Gateway       string          `json:"gateway,omitempty"`
	GatewayURL    string          `json:"gateway_url,omitempty"`
	LeafNodeURLs  []string        `json:"leafnode_urls,omitempty"`
}

// connectInfo is a route CONNECT's JSON (nats-server's connectInfo), plus
// lang, which only clients send: a client on the route port.
type connectInfo struct {
	Echo     bool   `json:"echo"`
	Verbose  bool   `json:"verbose"`
	Pedantic bool   `json:"pedantic"`
	User     string `json:"user,omitempty"`
	Pass     string `json:"pass,omitempty"`
	TLS      bool   `json:"tls_required"`
	Headers  bool   `json:"headers"`
	Name     string `json:"name"`
	Cluster  string `json:"cluster"`
	Dynamic  bool   `json:"cluster_dynamic,omitempty"`
	LNOC     bool   `json:"lnoc,omitempty"`
	LNOCU    bool   `json:"lnocu,omitempty"`
	LN       bool   `json:"ln,omitempty"`
	Gateway  string `json:"gateway,omitempty"`
	Lang     string `json:"lang,omitempty"`
}

// localInfo is this server's route INFO: no route_pool_size (natsd speaks
// the unpooled protocol, as a nats-server with pool_size -1), compression
// "off", no lnoc/ln (so peers send RS+/RS-/RMSG/HMSG only), proto 2;
// tls_required and tls_verify both with cluster TLS, as nats-server sends
// them (its route TLS always verifies the remote's certificate).
func (c *Config) localInfo(gossipMode byte, ldm bool) Info {
	host, port, ip := c.advertised()
	info := Info{
		ID:           c.Server.ID,
		Name:         c.Server.Name,
		Version:      c.Server.Version,
		Proto:        Proto,
		GitCommit:    c.Server.GitCommit,
		GoVersion:    c.Server.GoVersion,
		Host:         host,
		Port:         port,
		Headers:      true,
		AuthRequired: c.Username != "",
		TLSRequired:  c.TLS != nil,
		TLSVerify:    c.TLS != nil,
		MaxPayload:   c.Server.MaxPayload,
		IP:           ip,
		Cluster:      c.Name,
		Compression:  "off",
		GossipMode:   gossipMode,
		LameDuckMode: ldm,
	}
	if info.GoVersion == "" {
		info.GoVersion = runtime.Version()
	}
	if !c.NoAdvertise {
		info.ConnectURLs = c.ClientURLs
	}
	return info
}

// infoLine marshals info as "INFO {...}\r\n".
func infoLine(info *Info) []byte {
	b, err := json.Marshal(info)
	if err != nil { // cannot happen: plain fields and valid raw JSON only
		panic(err)
	}
	line := make([]byte, 0, len(b)+7)
	line = append(line, "INFO "...)
	line = append(line, b...)
	return append(line, "\r\n"...)
}

// connectLine is the CONNECT a solicited route sends, with the URL's user
// and password if it has them, and tls_required on a secured route.
func (c *Config) connectLine(user, pass string, secured bool) []byte {
	b, err := json.Marshal(connectInfo{
		Echo:    true,
		User:    user,
		Pass:    pass,
		TLS:     secured,
		Headers: true,
		Name:    c.Server.ID,
		Cluster: c.Name,
	})
	if err != nil { // cannot happen
		panic(err)
	}
	line := make([]byte, 0, len(b)+10)
	line = append(line, "CONNECT "...)
	line = append(line, b...)
	return append(line, "\r\n"...)
}
