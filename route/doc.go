// Package route makes a natsd server a member of a NATS cluster: it speaks
// nats-server's route protocol (unpooled, uncompressed, as a nats-server
// with pool_size -1 and compression off) to real nats-server 2.15 nodes and
// to other natsd servers.
//
// A [Route] is a connection of its own kind with its own declared state
// machine ([Machine]: connecting → retrying → (securing, with cluster TLS)
// → handshaking → active → closing → closed), run from a compiled [machine.Table] like the client
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
//     lock, the cluster's lock or the router's, a route's lock, the
//     router's remote-interest locks (leaves). The router's lock is held
//     while interest lines are queued, so every route sees the changes of
//     interest in the order they were counted.
//   - A route's remote interest is in the router's index only while the
//     route is handshaking or active: RS+ is refused once it is closing,
//     and enter_closing removes what was there.
//   - A route is registered (in the cluster's registry, its URLs in the
//     shared set) only between before_registered and enter_closing, and at
//     most one route per remote server id is registered.
//   - Nothing is queued to a route once it is closing; a route that
//     reached Closed is never reused: a reconnect is a new route.
//   - After [Cluster.Shutdown] no goroutine of the cluster is left.
//
// # Message routing
//
// The [Router] is the server's [conn.Router]; the lifecycle makes it
// before the accounts (so that imports' interest is counted) and hands it
// to the cluster.
//
//   - Local interest: every change of an account's interest (conn's
//     Account.insert and remove: SUB, UNSUB, auto-unsubscribe, a closed
//     connection, shadows and imports, internal subscriptions) is counted per
//     (account, subject, queue) under the router's lock, and the lines go
//     to every active route under that same lock, so each route sees the
//     changes in order: RS+ on 0→1 and RS- on 1→0 for plain interest, RS+
//     with the new weight at every change of a queue group and RS- at 0.
//     A route that becomes active gets the whole table first
//     (enter_active).
//   - Remote interest: RS+/RS- build, per account name, a subject index of
//     the routes' interest (items: route, queue, weight); a route's
//     interest leaves the index when it starts closing. Interest in an
//     account this server does not have is dropped, as nats-server drops
//     it with a static resolver.
//   - Publishing: after its local match, a local producer's message is
//     handed to [Router.Plan] (one nil check without a cluster). For
//     every queue group one member is chosen in the whole cluster, local
//     members weighing 1 and a route its RS+ weight, as nats-server does,
//     and the groups taken are skipped locally. Once the producer has
//     delivered locally, [Router.Send] gives each route with interest one
//     RMSG (HMSG) listing the groups it was chosen for, and also the
//     groups whose chosen local members all failed (closed, the publisher
//     itself with echo off, a delivery its permissions deny) to a member
//     on another server, as nats-server falls back to a remote member. A
//     route's writer is woken once per read of the producer, and a
//     backed-up route stalls its producers like a slow client does.
//   - Delivery: a route's reader hands its RMSG/HMSG to a [conn.Producer]
//     of its own, which delivers to every matching plain subscription and
//     one local member of each listed queue group, through the imports.
//     Nothing from a route goes to another route (one hop), except a
//     listed queue group no local member could take (none left, or all
//     failed): Send passes it on to a member elsewhere, as nats-server
//     does, rather than lose it.
//   - Imports across servers follow nats-server's single hop: a stream
//     import works through shadow subscriptions, one in the exporting
//     account for each importing subscription, with its queue group, so
//     their interest (RS+ in the exporting account, a queue group with its
//     weight) is forwarded and a queue group of the importing account gets
//     each message once in the cluster; a service import's own
//     subscription is not forwarded (a request is imported on the
//     requester's server, then routed in the exporting account with an
//     _R_ reply), and the exporter's _R_.xxx.> responses subscription is,
//     so the answer of a responder on another server comes back to the
//     server that tracks the request.
package route
