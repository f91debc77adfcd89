// Package system is the system account's internal client: the part of a
// natsd server that speaks to operators over NATS itself, as nats-server's
// does. It publishes the server's events into the system account
// (CONNECT, DISCONNECT, SERVER.CONNS, STATSZ, LAMEDUCK, SHUTDOWN, the
// auth-error event, and natsd's own LIFECYCLE for every server
// transition) and answers the server requests ($SYS.REQ.SERVER.PING and
// its kinds, $SYS.REQ.SERVER.<id>.<kind>, KICK, LDM, and natsd's
// LIFECYCLEZ and LAMEDUCK), with nats-server's subjects and JSON.
//
// The package is composed by lifecycle, which gives it the connections'
// [conn.Shared], the monitoring data ([monitor.Monitor]) and an [Admin]
// for the requests that act on the server; it imports nothing above it.
//
// # Invariants
//
//   - Only the system account sees any of this: events are published in
//     the system account, and the requests are internal subscriptions of
//     the system account's index. A client of any other account that
//     subscribes to $SYS.> gets nothing, and its request to
//     $SYS.REQ.SERVER.PING gets the no-responders status.
//   - Nothing runs on a publisher's hot path. A request that matches an
//     internal subscription is copied onto the receive queue, which one
//     goroutine drains (the work loop: requests, the STATSZ timer, the
//     account-connections heartbeat); everything the client publishes is
//     put on the send queue, which one goroutine marshals and publishes in
//     order. Publishing in an account other than the system account costs
//     nothing new, and an event nobody subscribed to is not even built.
//   - Both queues are bounded: a flood of requests beyond [QueueLimit] is
//     dropped (and logged once per flood), never buffered without end.
//   - Events keep their order: one send queue, one sender. The SHUTDOWN
//     event is the last thing published, and [Client.Shutdown] returns
//     only once it is queued to every subscriber, so the server's shutdown
//     flushes it to them before it closes their connections.
package system
