// Package lifecycle owns a natsd server: its declared state machine
// ([Machine]: Init → Listening → LameDuck → ShuttingDown → Stopped, with
// Upgrading between Listening and LameDuck), the listeners, the registry
// of connections, the PID and ports files, the lame-duck drain, the
// graceful shutdown and the upgrade that hands the listening sockets to a
// new process (upgrade.go; the process side is internal/handoff). It
// composes the parts: the connections (package conn), the routes (route),
// the monitoring endpoints (lifecycle/monitor) and the system account's
// internal client (system), which it starts on entering listening and
// stops last.
//
// Invariants:
//   - Only the lifecycle loop fires events on the looplab/fsm instance;
//     every API call ([Server.Start], [Server.Reload], [Server.Upgrade],
//     [Server.EnterLameDuck], [Server.Shutdown]) is a request to it.
//   - All work of a transition happens in that transition's callback; no
//     boolean beside the state says "shutting down" or "lame duck".
//   - The state, the time it was entered and the event that led there are
//     published through an atomic pointer, so readers (monitoring, signal
//     handlers, the accept loop) never block.
//   - Every socket is bound once per process lineage: an upgraded or
//     socket-activated server takes its listeners from [Deps.Inherited];
//     after a handoff this process accepts on none of them.
//   - Every recorded transition is also published to the system account
//     ($SYS.SERVER.<id>.LIFECYCLE), from the one place it is recorded.
//   - Shutdown is idempotent and bounded by shutdown_timeout; after
//     Stopped no listener, connection, goroutine or file of the server is
//     left.
package lifecycle
