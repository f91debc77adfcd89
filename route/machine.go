package route

import (
	"fmt"
	"time"

	"github.com/looplab/fsm"
	"github.com/natsd/natsd/internal/machine"
)

// State is where a route is in its life. A route is one connection to one
// other server, solicited (dialled by this server) or accepted; a solicited
// route that gives up, and any route once closed, is never reused: a
// reconnect is a new route.
type State int32

const (
	// Connecting: a solicited route waits its start delay, then dials its
	// URL; an accepted route passes through at once. Next: Securing (with
	// cluster TLS), Handshaking, Retrying, Closed.
	Connecting State = iota
	// Retrying: a dial failed; the route waits its backoff before dialling
	// again. Next: Connecting, Closed.
	Retrying
	// Securing: the socket is up and cluster TLS is on; the TLS handshake
	// runs before anything else is sent. Next: Handshaking, Closing.
	Securing
	// Handshaking: the socket is up, CONNECT and INFO are exchanged. Next:
	// Active, Closing.
	Handshaking
	// Active: the remote INFO was accepted and the route is registered
	// under the remote's server id. Next: Closing.
	Active
	// Closing: a close reason is recorded; no output is queued any more;
	// pending output is flushed (or skipped) and the socket closed. Next:
	// Closed.
	Closing
	// Closed: the route's goroutines have returned. Final.
	Closed
)

// numStates is the number of route states.
const numStates = 7

var stateNames = []string{
	Connecting:  "connecting",
	Retrying:    "retrying",
	Securing:    "securing",
	Handshaking: "handshaking",
	Active:      "active",
	Closing:     "closing",
	Closed:      "closed",
}

// String returns the declared name of the state.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Event is something that moves a route's state machine.
type Event int

const (
	// EventConnected: the socket is up (dialled or accepted), without
	// cluster TLS: Connecting → Handshaking.
	EventConnected Event = iota
	// EventStartTLS: the socket is up and cluster TLS is on: Connecting →
	// Securing.
	EventStartTLS
	// EventSecured: the TLS handshake completed: Securing → Handshaking.
	EventSecured
	// EventDialFailed: a dial failed and the route may try again:
	// Connecting → Retrying.
	EventDialFailed
	// EventRetry: the backoff is over: Retrying → Connecting.
	EventRetry
	// EventGiveUp: the route stops trying: Connecting → Closed.
	EventGiveUp
	// EventCancel: the server no longer wants the route before it
	// connected: Connecting, Retrying → Closed.
	EventCancel
	// EventRegistered: the remote INFO was accepted: Handshaking → Active.
	EventRegistered
	// EventClose starts closing: Securing, Handshaking, Active → Closing.
	EventClose
	// EventDone finishes closing: Closing → Closed.
	EventDone
)

var eventNames = []string{
	EventConnected:  "connected",
	EventStartTLS:   "start_tls",
	EventSecured:    "secured",
	EventDialFailed: "dial_failed",
	EventRetry:      "retry",
	EventGiveUp:     "give_up",
	EventCancel:     "cancel",
	EventRegistered: "registered",
	EventClose:      "close",
	EventDone:       "done",
}

// String returns the declared name of the event.
func (e Event) String() string {
	if e >= 0 && int(e) < len(eventNames) {
		return eventNames[e]
	}
	return fmt.Sprintf("Event(%d)", int(e))
}

// Machine is the declaration of the route state machine: the one place the
// route's states, events and transitions are written down. Every route runs
// its compiled [machine.Table], fsmgen draws it and the tests enumerate it.
var Machine = (&machine.Spec{
	Name:    "route",
	Initial: Connecting.String(),
	States:  stateNames,
	Events: fsm.Events{
		{Name: EventConnected.String(), Src: []string{Connecting.String()}, Dst: Handshaking.String()},
		{Name: EventStartTLS.String(), Src: []string{Connecting.String()}, Dst: Securing.String()},
		{Name: EventSecured.String(), Src: []string{Securing.String()}, Dst: Handshaking.String()},
		{Name: EventDialFailed.String(), Src: []string{Connecting.String()}, Dst: Retrying.String()},
		{Name: EventRetry.String(), Src: []string{Retrying.String()}, Dst: Connecting.String()},
		{Name: EventGiveUp.String(), Src: []string{Connecting.String()}, Dst: Closed.String()},
		{Name: EventCancel.String(), Src: []string{Connecting.String(), Retrying.String()}, Dst: Closed.String()},
		{Name: EventRegistered.String(), Src: []string{Handshaking.String()}, Dst: Active.String()},
		{Name: EventClose.String(), Src: []string{Securing.String(), Handshaking.String(), Active.String()}, Dst: Closing.String()},
		{Name: EventDone.String(), Src: []string{Closing.String()}, Dst: Closed.String()},
	},
	StateDocs: map[string]string{
		Connecting.String():  "A solicited route waits its start delay (none on the first connect; 1 s plus up to 100 ms of jitter when an explicit route reconnects, the jitter alone for a gossiped one), then dials its URL with a 1 s timeout. An accepted route passes through at once.",
		Retrying.String():    "A dial failed. The route waits its backoff (1 s; doubling up to 30 s with connect_backoff) before dialling again. An explicit route retries for as long as it is configured; a gossiped (implicit) one connect_retries times.",
		Securing.String():    "The socket is up and cluster TLS is on: the TLS handshake runs first, before any INFO (as nats-server does on routes), within the cluster tls timeout (default 2 s). The route acts as the TLS client if it dialled, verifying the remote's certificate against ca_file with the route URL's host as the server name (for an IP, the first host name of the explicit routes, as nats-server), and as the TLS server if it was accepted; either way the remote must present a certificate signed by the CA. Nothing is queued and no PING runs yet.",
		Handshaking.String(): "The socket is up (and secured, with cluster TLS). A solicited route has sent CONNECT and INFO; an accepted route has sent INFO and requires CONNECT as the first operation (with cluster authorization, within its timeout). The remote INFO has not been accepted yet. PINGs run.",
		Active.String():      "The remote INFO was accepted: the route is registered under the remote's server id, the remote's client URLs are in the client INFO, gossip about it went to the other routes. This server's whole interest was sent on entry and every change of it follows; the remote's interest (RS+/RS-) is in the router's index, and messages flow both ways (RMSG/HMSG, one hop). PINGs run every min(ping_interval, 30 s).",
		Closing.String():     "A close reason is recorded; nothing more is queued, and the remote's interest is out of the router's index. Pending output is flushed within write_deadline (or skipped for a skip-flush reason) and the socket closed.",
		Closed.String():      "The route's goroutines have returned and its remote interest is gone. If it was solicited (or kept as the survivor of a duplicate) and is not replaced by a registered route to the same server, a new route is started to reconnect.",
	},
	EventDocs: map[string]string{
		EventConnected.String():  "Sent by the dialler once the TCP connection is up, or by the cluster at once for an accepted socket, when cluster TLS is off.",
		EventStartTLS.String():   "Sent instead of connected when cluster TLS is on.",
		EventSecured.String():    "Sent by the reader when the TLS handshake completed (a failure or the timeout closes the route with TLSHandshakeError instead).",
		EventDialFailed.String(): "Sent by the dialler when a dial fails and the route may try again: an explicit route always, an implicit one while connect_retries lasts.",
		EventRetry.String():      "Sent by the dialler when the backoff is over.",
		EventGiveUp.String():     "Sent by the dialler when an implicit route has used up connect_retries, an explicit route is no longer configured, or the URL is this server's own cluster address.",
		EventCancel.String():     "Sent by the cluster when the server shuts down or a reload removes the route before it connected.",
		EventRegistered.String(): "Sent by the reader once the first remote INFO passed the checks (not this server, same cluster name, unique server name, no dedicated account route).",
		EventClose.String():      "Sent by whoever first decides to close: the reader (TLS handshake error or timeout, EOF, read error, protocol error, -ERR from the peer, CONNECT or INFO refused), the writer (write error or deadline), the ping timer (stale), the auth timer, the cluster (shutdown, RouteRemoved by reload, DuplicateRoute). Later calls only add a skip-flush reason.",
		EventDone.String():       "Sent by the last of the route's reader and writer to return.",
	},
	Senders: map[string]string{
		EventConnected.String():  "dialler, or the accept loop",
		EventStartTLS.String():   "dialler, or the accept loop",
		EventSecured.String():    "reader, after the TLS handshake",
		EventDialFailed.String(): "dialler",
		EventRetry.String():      "dialler, after the backoff",
		EventGiveUp.String():     "dialler",
		EventCancel.String():     "cluster: shutdown or reload",
		EventRegistered.String(): "reader, on the remote INFO",
		EventClose.String():      "reader, writer, ping or auth timer, cluster",
		EventDone.String():       "the last of reader and writer to return",
	},
	CallbackDocs: map[string]string{
		"enter_" + Retrying.String():         "Counts the attempt and computes the backoff the dialler waits.",
		"enter_" + Securing.String():         "Stamps the start time and counts the reader as running (the writer starts with the handshake).",
		"enter_" + Handshaking.String():      "Stamps the start time (unless securing did), queues CONNECT (solicited) and this server's route INFO (both saying tls_required after securing, the INFO tls_verify too), arms the auth timer (accepted, with cluster authorization; its default is the TLS timeout plus 1 s with cluster TLS, 2 s without) and the first PING (after 1 s plus up to 20%), and starts the writer.",
		"before_" + EventRegistered.String(): "Registers the route under the remote's server id. A second route to a registered server is refused here: the transition is cancelled, the survivor adopts the newcomer's URL if it was solicited, and the newcomer is closed as DuplicateRoute without reconnect.",
		"enter_" + Active.String():           "Adds the remote's client URLs to the reference-counted set (unless no_advertise) and updates the clients' INFO, forwards the remote's INFO to the other routes (gossip) by the gossip_mode rules, and sends the remote this server's whole interest (RS+ lines), after which every change of it.",
		"enter_" + Closing.String():          "Unregisters the route (its URLs leave the client INFO unless a lame-duck INFO removed them already), stops sending it interest and takes the remote's interest out of the router's index, lets stalled producers go, stops its timers, then closes the socket at once for a skip-flush reason or a route still securing, or wakes the writer to flush first.",
		"enter_" + Closed.String():           "Counts the close reason and decides the reconnect: a solicited route, or the survivor of a duplicate, is started again unless the server is stopping, the route was removed, it led to this server, or another route to the same server is registered.",
		"leave_state":                        "Records the transition (route id, remote, from, to, event, cause, time) in the cluster's route history and logs it at info level.",
	},
}).MustValidate()

// table is the compiled form of [Machine] that every route runs.
var table = Machine.Compile().MustMatch(stateNames, eventNames)

// step is the transition a callback runs for.
type step struct {
	from, to State
	event    Event
	cause    string
}

// callbackFn is one callback of the route machine. A before_ callback that
// returns an error cancels the transition; the others return nil.
type callbackFn func(r *Route, t step) error

// callbacks[state][event] lists the callback keys of a transition, in
// looplab/fsm's order, resolved once from the declaration's keys (in init:
// the callbacks fire events themselves).
var callbacks [][][]string

func init() {
	callbacks = compileCallbacks(map[string]callbackFn{
		"enter_" + Retrying.String():         (*Route).enterRetrying,
		"enter_" + Securing.String():         (*Route).enterSecuring,
		"enter_" + Handshaking.String():      (*Route).enterHandshaking,
		"before_" + EventRegistered.String(): (*Route).beforeRegistered,
		"enter_" + Active.String():           (*Route).enterActive,
		"enter_" + Closing.String():          (*Route).enterClosing,
		"enter_" + Closed.String():           (*Route).enterClosed,
		"leave_state":                        (*Route).leaveState,
	})
}

func compileCallbacks(fns map[string]callbackFn) [][][]string {
	keys := make([]string, 0, len(fns))
	for k := range fns {
		keys = append(keys, k)
	}
	if err := Machine.CheckCallbacks(keys); err != nil {
		panic(err)
	}
	for k := range Machine.CallbackDocs {
		if fns[k] == nil {
			panic(fmt.Sprintf("route machine: documented callback %q has no function", k))
		}
	}
	callbackFns = fns
	out := make([][][]string, len(stateNames))
	for s := range stateNames {
		out[s] = make([][]string, len(eventNames))
		for e := range eventNames {
			out[s][e] = Machine.Callbacks(stateNames[s], eventNames[e])
		}
	}
	return out
}

// callbackFns maps each callback key to its function.
var callbackFns map[string]callbackFn

// fire moves the route's machine by ev and runs the transition's callbacks,
// in declaration order, under the route's fire lock, so the callbacks of two
// transitions never interleave. It reports false, changing nothing, when the
// declaration does not allow ev in the current state or a before_ callback
// cancels it. Callbacks must not fire events on the same route.
func (r *Route) fire(ev Event, cause string) bool {
	r.fireMu.Lock()
	defer r.fireMu.Unlock()
	cur := State(r.state.Load())
	next := table.Next(int(cur), int(ev))
	if next == machine.Refused {
		return false
	}
	t := step{from: cur, to: State(next), event: ev, cause: cause}
	keys := callbacks[cur][ev]
	i := 0
	for ; i < len(keys) && hasPrefix(keys[i], "before_"); i++ {
		if err := callbackFns[keys[i]](r, t); err != nil {
			return false
		}
	}
	for ; i < len(keys) && hasPrefix(keys[i], "leave_"); i++ {
		callbackFns[keys[i]](r, t)
	}
	r.mu.Lock()
	r.state.Store(int32(next))
	r.entered[next].Store(time.Now().UnixNano())
	r.mu.Unlock()
	for ; i < len(keys); i++ {
		callbackFns[keys[i]](r, t)
	}
	return true
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// State returns the route's current state without blocking.
func (r *Route) State() State { return State(r.state.Load()) }
