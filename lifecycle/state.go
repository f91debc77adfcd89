package lifecycle

import (
	"fmt"

	"github.com/looplab/fsm"
	"github.com/natsd/natsd/internal/machine"
)

// State is where the server is in its life.
type State int32

const (
	// Init: options are validated and the identity exists; nothing is bound.
	// Next: Listening (start), or ShuttingDown (shutdown).
	Init State = iota
	// Listening: accepting and serving clients. Next: Upgrading, LameDuck,
	// ShuttingDown.
	Listening
	// Upgrading: a new natsd process is starting on the listening sockets
	// handed to it, while this one still accepts and serves. Next:
	// LameDuck (handoff, or a lame duck asked for), Listening (rollback),
	// ShuttingDown.
	Upgrading
	// LameDuck: the client listener is closed (or, after a handoff, left to
	// the new process) and clients are being closed, spread over the
	// lame-duck window. Next: ShuttingDown.
	LameDuck
	// ShuttingDown: listeners closed, clients flushed and closed, goroutines
	// joined, files removed. Next: Stopped.
	ShuttingDown
	// Stopped: everything is released; WaitForShutdown has returned. Final.
	Stopped
)

var stateNames = []string{
	Init:         "init",
	Listening:    "listening",
	Upgrading:    "upgrading",
	LameDuck:     "lame_duck",
	ShuttingDown: "shutting_down",
	Stopped:      "stopped",
}

// String returns the declared name of the state.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// The server's events, as declared in [Machine].
const (
	EventStart         = "start"
	EventReload        = "reload"
	EventUpgrade       = "upgrade"
	EventHandoff       = "handoff"
	EventRollback      = "rollback"
	EventEnterLameDuck = "enter_lame_duck"
	EventShutdown      = "shutdown"
	EventStopped       = "stopped"
)

// Machine is the declaration of the server state machine: the one place its
// states, events and transitions are written down. The server runs a
// looplab/fsm instance of it, fsmgen draws it and the tests enumerate it.
var Machine = (&machine.Spec{
	Name:    "server",
	Initial: Init.String(),
	States:  stateNames,
	Events: fsm.Events{
		{Name: EventStart, Src: []string{Init.String()}, Dst: Listening.String()},
		{Name: EventReload, Src: []string{Listening.String()}, Dst: Listening.String()},
		{Name: EventUpgrade, Src: []string{Listening.String()}, Dst: Upgrading.String()},
		{Name: EventHandoff, Src: []string{Upgrading.String()}, Dst: LameDuck.String()},
		{Name: EventRollback, Src: []string{Upgrading.String()}, Dst: Listening.String()},
		{Name: EventEnterLameDuck, Src: []string{Listening.String(), Upgrading.String()}, Dst: LameDuck.String()},
		{Name: EventShutdown, Src: []string{Init.String(), Listening.String(), Upgrading.String(), LameDuck.String()}, Dst: ShuttingDown.String()},
		{Name: EventStopped, Src: []string{ShuttingDown.String()}, Dst: Stopped.String()},
	},
	NoMoves: []machine.NoMove{
		{
			Event: EventEnterLameDuck, Src: []string{LameDuck.String(), ShuttingDown.String(), Stopped.String()},
			Answer: machine.Ignore, Doc: "Logged (\"enter_lame_duck request ignored in state ...\") and answered with no error; the drain or shutdown under way goes on.",
		},
		{
			Event: EventShutdown, Src: []string{ShuttingDown.String(), Stopped.String()},
			Answer: machine.Idempotent, Doc: "The caller waits for the shutdown under way to reach stopped and gets no error, as the first caller does.",
		},
	},
	StateDocs: map[string]string{
		Init.String():         "Options are validated and the server identity (NKey) exists. Nothing is bound, no file is written.",
		Listening.String():    "The client listener accepts; the PID and ports files exist; clients are served. /healthz answers 200.",
		Upgrading.String():    "A new natsd process (the executable now at this one's path, with the same arguments) is starting on the listening sockets handed to it: client, monitoring, profiling and route. This process still accepts and serves on them, so a connection waits in the one kernel queue for whichever process accepts first, and none is refused. The new process writes the PID file (its PID) and its own ports file. /healthz answers 200; a reload or another upgrade is refused.",
		LameDuck.String():     "The client listener is closed, so new connections are refused — or, after a handoff, every listener belongs to the new process, which answers new connections and /healthz. Existing clients got an INFO with \"ldm\":true and, after the grace period, all but the system account's are closed one by one, each at a random moment of its own slot (the window less a 3% margin, divided by the clients, at most 1 s) of the rest of the lame-duck duration. /healthz answers 503 (after a handoff, 200 to the last requests this process had accepted: the sockets' new owner serves).",
		ShuttingDown.String(): "Listeners are closed; every client is closed with ServerShutdown, flushing its pending output within shutdown_timeout; goroutines are joined; files are removed.",
		Stopped.String():      "Nothing is left: no listener, no connection, no goroutine, no PID or ports file. WaitForShutdown has returned.",
	},
	EventDocs: map[string]string{
		EventStart:         "API call Server.Start (the natsd command calls it once at start-up).",
		EventReload:        "SIGHUP, `natsd --signal reload`, or the API call Server.Reload.",
		EventUpgrade:       "SIGTTIN (natsd's own: nats-server has no upgrade signal), `natsd --signal upgrade`, or the API call Server.Upgrade.",
		EventHandoff:       "Sent by the server when the new process reported that it serves on the handed sockets.",
		EventRollback:      "Sent by the server when the new process failed: it reported an error (a bad config file, a socket it could not use), exited, or was not ready within upgrade_timeout.",
		EventEnterLameDuck: "SIGUSR2, `natsd --signal ldm`, the API call Server.EnterLameDuck, or the system account's request $SYS.REQ.SERVER.<id>.LAMEDUCK (answered with the drain plan).",
		EventShutdown:      "SIGINT, SIGTERM (ignored in lame duck), SIGQUIT, `natsd --signal quit|term`, the API call Server.Shutdown, the end of the lame-duck drain, a failed start, or a serving loop (client accept loop, monitoring or profiling listener) that stopped with an error.",
		EventStopped:       "Sent by the server itself once the shutdown work is done.",
	},
	Senders: map[string]string{
		EventStart:                               "API (natsd at start-up)",
		EventReload:                              "SIGHUP, --signal reload, API",
		EventUpgrade:                             "SIGTTIN, --signal upgrade, API",
		EventHandoff:                             "the new process, ready",
		EventRollback:                            "the new process failed or timed out",
		EventEnterLameDuck:                       "SIGUSR2, --signal ldm, API, $SYS request",
		Init.String() + "/" + EventShutdown:      "API, after a failed start",
		Listening.String() + "/" + EventShutdown: "SIGINT, SIGTERM, SIGQUIT, --signal quit/term, API, a failed listener",
		Upgrading.String() + "/" + EventShutdown: "SIGINT, SIGTERM, SIGQUIT, --signal quit/term, API, a failed listener",
		LameDuck.String() + "/" + EventShutdown:  "end of the drain, SIGINT, SIGQUIT, --signal quit, API, a failed listener",
		EventStopped:                             "the server, when the shutdown is done",
	},
	CallbackDocs: map[string]string{
		"before_" + EventStart:           "Binds the client listener (port -1: a random free port), the monitoring and profiling listeners and the route listener — or takes each over from the sockets this process inherited (from the natsd it replaces, or from systemd's LISTEN_FDS), closing inherited ones no listener takes — then writes the PID file and the ports file atomically. Any failure cancels the transition, closes what was bound and removes what was written; so does a socket systemd passed that no configured listener uses or that is on another port.",
		"enter_" + Listening.String():    "After a rollback, nothing: every listener kept serving throughout. After start: starts serving on every listener bound before: the monitoring and profiling servers, then the system account's internal client (events and requests, package system), then the accept loop; only then logs \"Server is ready\" and tells the service manager READY=1, so ready means every configured listener is up. A serving loop that later stops with an error (not because its listener was closed) sends shutdown with that error as the cause.",
		"before_" + EventReload:          "Tells the service manager a reload started, then prepares each reload step in order: validates the new options (natsd re-read its config file first), reporting every invalid value, and compares them with the running ones; writes the PID and ports files at their new places if they moved. A step that refuses (an invalid value, a change to an option that cannot change live, a file that cannot be written) cancels the reload, undoes what the earlier steps did and keeps the running options.",
		"after_" + EventReload:           "Applies each reload step in order, atomically for the lifecycle: the options (INFO for new connections; max_payload, max_control_line, max_pending, max_subscriptions, write_deadline and ping settings for every connection, open or new; lame-duck and shutdown timings), users, permissions and accounts (connected clients are checked again, see lifecycle/auth.go), the files (removed from their old places if they moved), the caller's parts (natsd's logging); then logs one `Reloaded: name = value` line per change and records the reload.",
		"before_" + EventUpgrade:         "Starts the new process (natsd's own executable path, same arguments) with every listening socket and a status pipe. Refused when natsd runs without an upgrader (Deps.Upgrade); a process that cannot be started (no executable, exec format error) cancels the upgrade, logged as `upgrade failed: <reason>`: nothing changed.",
		"enter_" + Upgrading.String():    "Waits, in a goroutine the server owns, for the new process's report: \"ready\" sends handoff; an error it reports, its exit, or upgrade_timeout without a report sends rollback with the reason.",
		"leave_" + Upgrading.String():    "Stops waiting. Unless the event is handoff, kills the new process if it still runs and reaps it, removes the ports file it may have left and writes this process's PID back into the PID file, then logs `upgrade failed: <reason>` (rollback) or `upgrade cancelled`. The caller of Server.Upgrade gets the outcome.",
		"before_" + EventRollback:        "Cancels a report about an upgrade that is no longer the one under way.",
		"before_" + EventHandoff:         "Stops accepting on every socket, which the new process now serves, before the state changes: releases the client listener (closing this process's descriptor; a connection already accepted is still served), stops taking routes (the routes that are up stay up until shutdown), stops the monitoring and profiling servers accepting (what they accepted is answered, /healthz still 200, keep-alives off; they close at shutdown). Tells the service manager MAINPID=<new PID> and sends it nothing more: the new process speaks for the service.",
		"enter_" + LameDuck.String():     "Closes the client listener, records the drain plan (what the $SYS LAMEDUCK request answers), sends every client that declared protocol ≥ 1 an INFO with \"ldm\":true, waits the grace period, then closes the clients (shuffled) with ServerShutdown, each at a random moment of its own slot of the window — all but the system account's, which the shutdown closes after its SHUTDOWN event, so operators watching see the drain through; when done (at once if no clients) it sends shutdown. After a handoff the INFO keeps this server's URL in connect_urls (the new process answers it) and no route INFO with \"ldm\":true is sent: nats-server would take natsd's client URL out of its connect_urls twice, once for it and once when the route closes, while the new process still serves it.",
		"leave_" + LameDuck.String():     "Stops the lame-duck drain where it is, so a shutdown cuts it short.",
		"enter_" + ShuttingDown.String(): "In order: publishes the system account's SHUTDOWN event and waits (up to 1 s) until it is queued to its subscribers; closes the client listener; closes every client with ServerShutdown, flushing pending output unless a skip-flush reason was recorded; waits for the connections until shutdown_timeout, then force-closes the rest without flush; closes the monitoring and profiling listeners; stops the system account's client and joins every goroutine; removes the ports file, and the PID file if it still holds this process's PID (after a handoff it holds the new process's).",
		"enter_" + Stopped.String():      "Releases WaitForShutdown.",
		"leave_state":                    "Records the transition (from, to, event, cause, time) in the history and publishes it on $SYS.SERVER.<id>.LIFECYCLE (on entering lame_duck, after nats-server's LAMEDUCK event), publishes the new state for lock-free readers, logs it at info level and tells the service manager (while this process speaks for the service) when a drain begins (STOPPING=1 with EXTEND_TIMEOUT_USEC on lame_duck and shutting_down).",
	},
}).MustValidate()
