// Package monitor serves a natsd server's HTTP monitoring endpoints —
// /varz, /connz, /subsz, /routez, /accountz, /healthz, /lifecyclez and the
// index at /, and /gatewayz, /leafz and /jsz as nats-server answers them
// when the feature is not configured — and the profiling handlers. The
// system account's requests (VARZ, CONNZ, SUBSZ, ...) answer with the
// same data, through the methods that build each answer. JSON field names follow nats-server's monitor.go, so
// dashboards and tools written for nats-server read natsd too; /lifecyclez
// and the "state" field of /varz are natsd's own.
//
// The package reads a server only through the [Source] interface it
// declares; it does not import the lifecycle package, and it never changes
// the server.
//
// # Invariants
//
//   - Handlers only read. Lifecycle state, counters and closed-connection
//     counts are read without a lock; a connection is read through
//     [conn.Conn.Snapshot] (its own short critical section) and never
//     through a longer one.
//   - A request the endpoint cannot serve as asked (unknown sort key,
//     negative or non-numeric limit or offset, unknown state) is answered
//     400 with a JSON body {"error": "..."}; nothing a client sends makes a
//     handler answer 500.
//   - /healthz answers 200 exactly while the source reports itself ready
//     (the server is listening) and 503 naming the state otherwise, so a
//     load balancer stops routing the moment a drain starts.
//   - Paging is deterministic: every sort breaks ties by ascending cid.
//   - The profiling handlers live on their own mux ([NewProfileHandler]);
//     nothing here serves http.DefaultServeMux.
package monitor
