package monitor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"sync/atomic"
	"time"
)

// The endpoint paths.
const (
	RootPath       = "/"
	VarzPath       = "/varz"
	ConnzPath      = "/connz"
	SubszPath      = "/subsz"
	HealthzPath    = "/healthz"
	LifecyclezPath = "/lifecyclez"
	RoutezPath     = "/routez"
	GatewayzPath   = "/gatewayz"
	LeafzPath      = "/leafz"
	AccountzPath   = "/accountz"
	JszPath        = "/jsz"
)

// paths lists the endpoints in the order the index and http_req_stats show
// them.
var paths = []string{RootPath, VarzPath, ConnzPath, SubszPath, RoutezPath, GatewayzPath, LeafzPath, AccountzPath, JszPath, HealthzPath, LifecyclezPath}

// Monitor answers the monitoring endpoints for one [Source]. It is an
// [http.Handler]; build it with [New].
type Monitor struct {
	src     Source
	mux     *http.ServeMux
	now     func() time.Time
	version string
	reqs    map[string]*atomic.Uint64 // per path; the map itself never changes
	usage   usage
}

// New returns the monitoring handler for src.
func New(src Source) *Monitor {
	m := &Monitor{
		src:  src,
		mux:  http.NewServeMux(),
		now:  time.Now,
		reqs: make(map[string]*atomic.Uint64, len(paths)),
	}
	for _, p := range paths {
		m.reqs[p] = new(atomic.Uint64)
	}
	m.mux.HandleFunc(RootPath, m.handleRoot)
	m.mux.HandleFunc(VarzPath, m.handleVarz)
	m.mux.HandleFunc(ConnzPath, m.handleConnz)
	m.mux.HandleFunc(SubszPath, m.handleSubsz)
	m.mux.HandleFunc("/subscriptionsz", m.handleSubsz)
	m.mux.HandleFunc(HealthzPath, m.handleHealthz)
	m.mux.HandleFunc(LifecyclezPath, m.handleLifecyclez)
	m.mux.HandleFunc(RoutezPath, m.handleRoutez)
	m.mux.HandleFunc(GatewayzPath, m.handleGatewayz)
	m.mux.HandleFunc(LeafzPath, m.handleLeafz)
	m.mux.HandleFunc(AccountzPath, m.handleAccountz)
	m.mux.HandleFunc(JszPath, m.handleJsz)
	return m
}

// ServeHTTP dispatches to the endpoint for r's path.
func (m *Monitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mux.ServeHTTP(w, r)
}

// count records one request to path for http_req_stats.
func (m *Monitor) count(path string) { m.reqs[path].Add(1) }

// requestStats returns the per-endpoint request counts.
func (m *Monitor) requestStats() map[string]uint64 {
	out := make(map[string]uint64, len(m.reqs))
	for p, n := range m.reqs {
		out[p] = n.Load()
	}
	return out
}

// writeJSON answers code with v as indented JSON, with the headers
// nats-server sends. Subjects are written as they are ("orders.>", not
// "orders.\u003e"): the body is not meant for an HTML page.
func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil { // cannot happen: every response is plain data
		code = http.StatusInternalServerError
		buf.Reset()
		fmt.Fprintf(&buf, "{\"error\":%q}\n", err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(code)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

// badRequest answers 400 with err as a JSON error.
func badRequest(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
}

// handleRoot serves an HTML index of the endpoints, as nats-server does; any
// other unknown path is a JSON 404.
func (m *Monitor) handleRoot(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != RootPath {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such endpoint: " + r.URL.Path})
		return
	}
	m.count(RootPath)
	cfg := m.src.Config()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, indexHead, html.EscapeString(cfg.Version), html.EscapeString(cfg.ServerName))
	for _, e := range index {
		fmt.Fprintf(w, "<a href=\".%s\">%s <span class=\"endpoint\">%s</span></a>\n", e.path, e.title, e.path)
	}
	fmt.Fprint(w, "</body>\n</html>\n")
}

// index lists the endpoints on the index page, with nats-server's titles.
var index = []struct{ title, path string }{
	{"General", VarzPath},
	{"Connections", ConnzPath},
	{"Subscriptions", SubszPath},
	{"Routes", RoutezPath},
	{"Gateways", GatewayzPath},
	{"Leaf Nodes", LeafzPath},
	{"Accounts", AccountzPath},
	{"JetStream", JszPath},
	{"Health Probe", HealthzPath},
	{"Lifecycle", LifecyclezPath},
}

const indexHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>natsd monitoring</title>
<style>
  body { font-family: ui-sans-serif, system-ui, sans-serif; margin-left: 32px }
  a { display: block; padding-bottom: 6px; text-decoration: none }
  .endpoint { font-family: monospace; color: #999 }
</style>
</head>
<body>
<h1>natsd v%s</h1>
<p>%s</p>
`
