package conn

import (
	"fmt"
	"time"

	"github.com/looplab/fsm"
	"github.com/natsd/natsd/internal/machine"
)

// State is where a connection is in its life. It only moves forward:
// Open → Closing → Closed.
type State int32

const (
	// Open: the connection reads, parses and delivers. Next: Closing.
	Open State = iota
	// Closing: a close reason is recorded; no new input is processed (only
	// a PONG is looked for) and no new output is queued; pending output is
	// flushed (or skipped) and the socket closed. Next: Closed.
	Closing
	// Closed: the connection's reader has returned and its writer role has
	// ended (see writer.go), its subscriptions are released and its final
	// counters are kept. Final.
	Closed
)

// numStates is the number of connection states.
const numStates = 3

var stateNames = []string{Open: "open", Closing: "closing", Closed: "closed"}

// String returns the declared name of the state.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Event is something that moves a connection's state machine.
type Event int

const (
	// EventClose starts closing: Open → Closing.
	EventClose Event = iota
	// EventDone finishes closing once the reader has returned and the
	// writer role has ended: Closing → Closed.
	EventDone
)

var eventNames = []string{EventClose: "close", EventDone: "done"}

// String returns the declared name of the event.
func (e Event) String() string {
	if e >= 0 && int(e) < len(eventNames) {
		return eventNames[e]
	}
	return fmt.Sprintf("Event(%d)", int(e))
}

// Machine is the declaration of the connection state machine. It is the one
// place the connection's states, events and transitions are written down:
// every connection runs its compiled [machine.Table], fsmgen draws it and the
// tests enumerate it.
var Machine = (&machine.Spec{
	Name:    "connection",
	Initial: Open.String(),
	States:  stateNames,
	Events: fsm.Events{
		{Name: EventClose.String(), Src: []string{Open.String()}, Dst: Closing.String()},
		{Name: EventDone.String(), Src: []string{Closing.String()}, Dst: Closed.String()},
	},
	NoMoves: []machine.NoMove{{
		Event: EventClose.String(), Src: []string{Closing.String(), Closed.String()}, Answer: machine.Idempotent,
		Doc: "The first reason stays the one reported; a skip-flush reason given now still turns the final flush off and, while closing, closes the socket at once.",
	}},
	StateDocs: map[string]string{
		Open.String():    "Reading, parsing and delivering. INFO was sent; the server PINGs every ping_interval.",
		Closing.String(): "A close reason is recorded. No input is processed and no output is queued; pending output is being flushed (or skipped) before the socket closes. After the final flush of a shutdown, with a PING sent within the last eight round trips (at least 0.5 s, at most write_deadline) unanswered and output queued after it, the write side is closed and the client's PONG awaited that long, so that the close does not reset the connection and throw away what the client has not read.",
		Closed.String():  "The reader has returned and the writer role has ended, subscriptions are released; the reason, the close time and the final counters are kept for monitoring.",
	},
	EventDocs: map[string]string{
		EventClose.String(): "Sent by whoever first decides to close: the reader (client closed, read error, protocol error), the writer (write error, write deadline), a publisher (slow consumer by max_pending), the ping timer (stale connection) or the server (shutdown, lame duck, max_connections). Later calls only add a skip-flush reason.",
		EventDone.String():  "Sent by the last of the reader and the writer role to end: the writer goroutine as it returns, or, for a connection that never needed one, whoever ended the role at close.",
	},
	Senders: map[string]string{
		EventClose.String(): "reader, writer, publisher, ping timer or server",
		EventDone.String():  "the last of reader and writer role to end",
	},
	CallbackDocs: map[string]string{
		"leave_" + Open.String():    "Stops the ping timer.",
		"enter_" + Closing.String(): "Decides flush-or-skip from the recorded reasons: a skip-flush reason closes the socket at once; any other has the writer goroutine (started now if the connection had none) flush pending output within the write deadline and then close the socket. With nothing left to write and no writer goroutine, the read is ended at once.",
		"enter_" + Closed.String():  "Releases the subscriptions, adds the final counters to the server totals, stamps the close time and hands the connection to the server for its closed-connections ring.",
	},
}).MustValidate()

// table is the compiled form of [Machine] that every connection runs: the
// state is one atomic word and a transition one array lookup.
var table = Machine.Compile().MustMatch(stateNames, eventNames)

// callbacks[state][event] lists the functions run after the transition, in
// looplab/fsm's order, resolved once from the declaration's callback keys.
// It is set in init: the callbacks lead back to fire (a closing connection
// ends its writer role, which may fire done), which reads it.
var callbacks [][][]func(*Conn)

func init() {
	callbacks = compileCallbacks(map[string]func(*Conn){
		"leave_" + Open.String():    (*Conn).leaveOpen,
		"enter_" + Closing.String(): (*Conn).enterClosing,
		"enter_" + Closed.String():  (*Conn).enterClosed,
	})
}

func compileCallbacks(fns map[string]func(*Conn)) [][][]func(*Conn) {
	keys := make([]string, 0, len(fns))
	for k := range fns {
		keys = append(keys, k)
	}
	if err := Machine.CheckCallbacks(keys); err != nil {
		panic(err)
	}
	for k := range Machine.CallbackDocs {
		if fns[k] == nil {
			panic(fmt.Sprintf("connection machine: documented callback %q has no function", k))
		}
	}
	out := make([][][]func(*Conn), len(stateNames))
	for s := range stateNames {
		out[s] = make([][]func(*Conn), len(eventNames))
		for e := range eventNames {
			for _, k := range Machine.Callbacks(stateNames[s], eventNames[e]) {
				out[s][e] = append(out[s][e], fns[k])
			}
		}
	}
	return out
}

// fire moves the connection's machine by ev and runs the transition's
// callbacks. It reports false, changing nothing, when the declaration does
// not allow ev in the current state. The state changes under c.mu, so code
// that queues output under c.mu never queues after Open has been left.
func (c *Conn) fire(ev Event) bool {
	c.mu.Lock()
	cur := State(c.state.Load())
	next := table.Next(int(cur), int(ev))
	if next == machine.Refused {
		c.mu.Unlock()
		return false
	}
	c.state.Store(int32(next))
	c.entered[next].Store(time.Now().UnixNano())
	c.mu.Unlock()
	for _, f := range callbacks[cur][ev] {
		f(c)
	}
	return true
}

// State returns the connection's current state without blocking.
func (c *Conn) State() State { return State(c.state.Load()) }

// History returns the connection's transitions so far, oldest first. A
// connection only moves forward and enters each state by one declared
// transition (see [arrivals]), so its history is the time it entered each
// state; the cause of closing is the close reason.
func (c *Conn) History() []machine.Transition {
	var out []machine.Transition
	for s, in := range arrivals {
		t := c.entered[s].Load()
		if in == nil || t == 0 {
			continue
		}
		tr := machine.Transition{From: in.from.String(), To: State(s).String(), Event: in.event.String(), At: time.Unix(0, t)}
		if in.event == EventClose {
			tr.Cause = c.Reason().String()
		}
		out = append(out, tr)
	}
	return out
}

// arrival is the declared transition into a state.
type arrival struct {
	from  State
	event Event
}

// arrivals[s] is the one declared transition into state s (nil for the
// initial state), read once from the declaration. A declaration with two
// ways into a state would need a recorded history instead: it panics.
var arrivals = func() []*arrival {
	out := make([]*arrival, len(stateNames))
	for si := range stateNames {
		for ei := range eventNames {
			next := table.Next(si, ei)
			if next == machine.Refused || next == si {
				continue
			}
			if out[next] != nil {
				panic(fmt.Sprintf("connection machine: two transitions into %s", State(next)))
			}
			out[next] = &arrival{from: State(si), event: Event(ei)}
		}
	}
	return out
}()
