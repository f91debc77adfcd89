// Package route makes a natsd server a member of a NATS cluster: it speaks
// nats-server's route protocol (unpooled, uncompressed, as a nats-server
// with pool_size -1 and compression off) to real nats-server 2.15 nodes and
// to other natsd servers.
//
// A [Route] is a connection of its own kind with its own declared state
// machine ([Machine]: connecting → retrying → handshaking → active →
// closing → closed), run from a compiled [machine.Table] like the client
// connection's, drawn by fsmgen and enumerated by the tests. The [Cluster]
// owns the routes: it accepts them on the route listener, dials the
// explicit ones (forever, with backoff) and the gossiped ones
// (connect_retries times), keeps the registry of active routes by remote
// server id (duplicates and routes to self are refused), forwards gossip so
// a server seeded with one peer joins the full mesh, keeps the other
// servers' client URLs reference-counted for the clients' INFO, and sends
// and handles the lame-duck INFO.
//
// Invariants:
//   - Every transition goes through [Route.fire], under the route's fire
//     lock; its callbacks do the work (registering, unregistering, URLs,
//     gossip, reconnect) and may take the cluster's lock. Code holding the
//     cluster's lock never fires a route event. Lock order: a route's fire
//     lock, the cluster's lock, a route's lock.
//   - A route is registered (in the cluster's registry, its URLs in the
//     shared set) only between before_registered and enter_closing, and at
//     most one route per remote server id is registered.
//   - Nothing is queued to a route once it is closing; a route that
//     reached Closed is never reused: a reconnect is a new route.
//   - After [Cluster.Shutdown] no goroutine of the cluster is left.
//
// # Phase 2: message routing (not in this package yet)
//
// Remote interest is recorded per route keyed by (account, subject, queue)
// with the queue weight; RMSG and HMSG are parsed, counted and dropped. The
// seams for routing messages are:
//
//   - conn.Shared gains a nil-able Cluster interface. conn calls
//     SubChanged(account, subject, queue, ±1) after every insert into and
//     removal from the subject index (SUB, UNSUB, auto-unsubscribe,
//     connection close). The cluster keeps a reference count per (account,
//     subject, queue) and, under one lock so every route sees changes in
//     order, sends RS+ on 0→1 and RS- on 1→0 for plain interest, and RS+
//     with the new weight on every change of a queue group (RS- at 0). A
//     newly registered route gets the whole table (enter_active).
//   - conn.publish, after its local match, calls Cluster.Forward(account,
//     subject, reply, hdrLen, msg, localQueues) only when the interface is
//     non-nil (a client's publish costs one nil check without a cluster).
//     The cluster matches a per-account subject index of remote interest
//     (items: route, queue, weight), picks for every queue group one
//     member cluster-wide, weighted like nats-server (local members weigh
//     1, a route its RS+ weight), sends each route with interest one RMSG
//     (or HMSG) listing the queue groups it was chosen for, and returns
//     which local groups it took away from local delivery. Nothing from a
//     route is ever forwarded to another route (one hop).
//   - An inbound RMSG/HMSG is handed to a conn-level delivery function
//     (the refactored body of conn.publish minus the forward): every
//     matching plain local subscription, plus exactly one local member of
//     each queue group the RMSG lists, with the route's reader as the
//     producer for flush batching and the fast-producer stall.
//   - Accounts are named in every op; phase 1 records them as given, and
//     phase 2 looks them up among the server's accounts ($G until accounts
//     land), dropping what names an unknown account as nats-server does.
package route
