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
	// Listening: accepting and serving clients. Next: LameDuck, ShuttingDown.
	Listening
	// LameDuck: the client listener is closed and clients are being closed,
	// spread over the lame-duck window. Next: ShuttingDown.
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
		{Name: EventEnterLameDuck, Src: []string{Listening.String()}, Dst: LameDuck.String()},
		{Name: EventShutdown, Src: []string{Init.String(), Listening.String(), LameDuck.String()}, Dst: ShuttingDown.String()},
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
		LameDuck.String():     "The client listener is closed, so new connections are refused. Existing clients got an INFO with \"ldm\":true and, after the grace period, all but the system account's are closed one by one, each at a random moment of its own slot (the window less a 3% margin, divided by the clients, at most 1 s) of the rest of the lame-duck duration. /healthz answers 503.",
		ShuttingDown.String(): "Listeners are closed; every client is closed with ServerShutdown, flushing its pending output within shutdown_timeout; goroutines are joined; files are removed.",
		Stopped.String():      "Nothing is left: no listener, no connection, no goroutine, no PID or ports file. WaitForShutdown has returned.",
	},
	EventDocs: map[string]string{
		EventStart:         "API call Server.Start (the natsd command calls it once at start-up).",
		EventReload:        "SIGHUP, `natsd --signal reload`, or the API call Server.Reload.",
		EventEnterLameDuck: "SIGUSR2, `natsd --signal ldm`, the API call Server.EnterLameDuck, or the system account's request $SYS.REQ.SERVER.<id>.LAMEDUCK (answered with the drain plan).",
		EventShutdown:      "SIGINT, SIGTERM (ignored in lame duck), SIGQUIT, `natsd --signal quit|term`, the API call Server.Shutdown, the end of the lame-duck drain, a failed start, or a serving loop (client accept loop, monitoring or profiling listener) that stopped with an error.",
		EventStopped:       "Sent by the server itself once the shutdown work is done.",
	},
	Senders: map[string]string{
		EventStart:                               "API (natsd at start-up)",
		EventReload:                              "SIGHUP, --signal reload, API",
		EventEnterLameDuck:                       "SIGUSR2, --signal ldm, API, $SYS request",
		Init.String() + "/" + EventShutdown:      "API, after a failed start",
		Listening.String() + "/" + EventShutdown: "SIGINT, SIGTERM, SIGQUIT, --signal quit/term, API, a failed listener",
		LameDuck.String() + "/" + EventShutdown:  "end of the drain, SIGINT, SIGQUIT, --signal quit, API, a failed listener",
		EventStopped:                             "the server, when the shutdown is done",
	},
	CallbackDocs: map[string]string{
		"before_" + EventStart:           "Binds the client listener (port -1: a random free port) and the monitoring and profiling listeners, then writes the PID file and the ports file atomically. Any failure cancels the transition, closes what was bound and removes what was written.",
		"enter_" + Listening.String():    "Starts serving on every listener bound before: the monitoring and profiling servers, then the system account's internal client (events and requests, package system), then the accept loop; only then logs \"Server is ready\" and tells the service manager READY=1, so ready means every configured listener is up. A serving loop that later stops with an error (not because its listener was closed) sends shutdown with that error as the cause.",
		"before_" + EventReload:          "Tells the service manager a reload started, then prepares each reload step in order: validates the new options (natsd re-read its config file first), reporting every invalid value, and compares them with the running ones; writes the PID and ports files at their new places if they moved. A step that refuses (an invalid value, a change to an option that cannot change live, a file that cannot be written) cancels the reload, undoes what the earlier steps did and keeps the running options.",
		"after_" + EventReload:           "Applies each reload step in order, atomically for the lifecycle: the options (INFO for new connections; max_payload, max_control_line, max_pending, max_subscriptions, write_deadline and ping settings for every connection, open or new; lame-duck and shutdown timings), users, permissions and accounts (connected clients are checked again, see lifecycle/auth.go), the files (removed from their old places if they moved), the caller's parts (natsd's logging); then logs one `Reloaded: name = value` line per change and records the reload.",
		"enter_" + LameDuck.String():     "Closes the client listener, records the drain plan (what the $SYS LAMEDUCK request answers), sends every client that declared protocol ≥ 1 an INFO with \"ldm\":true, waits the grace period, then closes the clients (shuffled) with ServerShutdown, each at a random moment of its own slot of the window — all but the system account's, which the shutdown closes after its SHUTDOWN event, so operators watching see the drain through; when done (at once if no clients) it sends shutdown.",
		"leave_" + LameDuck.String():     "Stops the lame-duck drain where it is, so a shutdown cuts it short.",
		"enter_" + ShuttingDown.String(): "In order: publishes the system account's SHUTDOWN event and waits (up to 1 s) until it is queued to its subscribers; closes the client listener; closes every client with ServerShutdown, flushing pending output unless a skip-flush reason was recorded; waits for the connections until shutdown_timeout, then force-closes the rest without flush; closes the monitoring and profiling listeners; stops the system account's client and joins every goroutine; removes the PID and ports files.",
		"enter_" + Stopped.String():      "Releases WaitForShutdown.",
		"leave_state":                    "Records the transition (from, to, event, cause, time) in the history and publishes it on $SYS.SERVER.<id>.LIFECYCLE (on entering lame_duck, after nats-server's LAMEDUCK event), publishes the new state for lock-free readers, logs it at info level and tells the service manager when a drain begins (STOPPING=1 with EXTEND_TIMEOUT_USEC on lame_duck and shutting_down).",
	},
}).MustValidate()
