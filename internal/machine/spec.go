package machine

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/looplab/fsm"
)

// Spec is one declared state machine: the looplab/fsm declaration, the
// answers to the requests it does not move on, and the documentation that
// fsmgen prints beside them.
type Spec struct {
	// Name is a short lower-case name ("server", "connection").
	Name string
	// Initial is the state a new machine starts in.
	Initial string
	// States lists every state in declaration order (the order of the typed
	// enum that mirrors it).
	States []string
	// Events is the looplab/fsm declaration itself.
	Events fsm.Events
	// NoMoves declares the pairs (state, event) that move nothing but are
	// not refused: ignored, or idempotent. Every other pair that Events
	// does not declare is refused. See [Spec.Answer].
	NoMoves []NoMove
	// StateDocs says, for each state, what holds while the machine is in it.
	StateDocs map[string]string
	// EventDocs says, for each event, who sends it (signal, API call, timer).
	EventDocs map[string]string
	// Senders names who sends each event in a few words, for the edge
	// labels of the diagrams ("SIGUSR2, --signal ldm, API"). A key is an
	// event, or "state/event" for the edge from that state when its
	// senders differ. Every declared transition must have one.
	Senders map[string]string
	// CallbackDocs says what each callback does, keyed by the looplab/fsm
	// callback key ("before_start", "enter_closing", ...).
	CallbackDocs map[string]string
}

// EventNames returns the declared event names in declaration order, each
// once.
func (s *Spec) EventNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, e := range s.Events {
		if !seen[e.Name] {
			seen[e.Name] = true
			names = append(names, e.Name)
		}
	}
	return names
}

// Next returns the state that event leads to from state, and false when the
// declaration does not allow event in state.
func (s *Spec) Next(state, event string) (string, bool) {
	for _, e := range s.Events {
		if e.Name == event && slices.Contains(e.Src, state) {
			return e.Dst, true
		}
	}
	return "", false
}

// Callbacks returns the callback keys that run, in looplab/fsm's order, when
// event fires in state: at each step (before, leave, enter, after) the named
// key before the generic one, leave and enter only when the state changes.
// It lists only keys documented in CallbackDocs, generic ones included,
// since those are the callbacks the machine registers; nil when the
// declaration does not move on event in state.
func (s *Spec) Callbacks(state, event string) []string {
	dst, ok := s.Next(state, event)
	if !ok {
		return nil
	}
	keys := []string{"before_" + event, "before_event"}
	if dst != state {
		keys = append(keys, "leave_"+state, "leave_state", "enter_"+dst, "enter_state")
	}
	keys = append(keys, "after_"+event, "after_event")
	var out []string
	for _, k := range keys {
		if _, ok := s.CallbackDocs[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// Validate checks that the declaration is consistent: the initial state and
// every source and destination are declared states, every state and event is
// documented, and every callback key names a declared state or event.
func (s *Spec) Validate() error {
	states := map[string]bool{}
	for _, st := range s.States {
		if states[st] {
			return fmt.Errorf("%s machine: state %q declared twice", s.Name, st)
		}
		states[st] = true
	}
	if !states[s.Initial] {
		return fmt.Errorf("%s machine: initial state %q is not declared", s.Name, s.Initial)
	}
	seen := map[[2]string]bool{}
	for _, e := range s.Events {
		if !states[e.Dst] {
			return fmt.Errorf("%s machine: event %q leads to undeclared state %q", s.Name, e.Name, e.Dst)
		}
		for _, src := range e.Src {
			if !states[src] {
				return fmt.Errorf("%s machine: event %q starts from undeclared state %q", s.Name, e.Name, src)
			}
			if seen[[2]string{src, e.Name}] {
				return fmt.Errorf("%s machine: event %q declared twice from %q", s.Name, e.Name, src)
			}
			seen[[2]string{src, e.Name}] = true
		}
	}
	events := map[string]bool{}
	for _, e := range s.EventNames() {
		events[e] = true
		if s.EventDocs[e] == "" {
			return fmt.Errorf("%s machine: event %q has no doc", s.Name, e)
		}
	}
	for _, st := range s.States {
		if s.StateDocs[st] == "" {
			return fmt.Errorf("%s machine: state %q has no doc", s.Name, st)
		}
	}
	for k := range s.StateDocs {
		if !states[k] {
			return fmt.Errorf("%s machine: doc for undeclared state %q", s.Name, k)
		}
	}
	for k := range s.EventDocs {
		if !events[k] {
			return fmt.Errorf("%s machine: doc for undeclared event %q", s.Name, k)
		}
	}
	for k := range s.CallbackDocs {
		if err := s.checkKey(k, states, events); err != nil {
			return err
		}
	}
	if err := s.validateNoMoves(states, events); err != nil {
		return err
	}
	return s.validateSenders(states, events)
}

// Sender returns who sends event on its edge from state, for diagrams.
func (s *Spec) Sender(from, event string) string {
	if v, ok := s.Senders[from+"/"+event]; ok {
		return v
	}
	return s.Senders[event]
}

// validateSenders checks that every declared transition has a sender and
// every key names a declared event (and state).
func (s *Spec) validateSenders(states, events map[string]bool) error {
	for k := range s.Senders {
		st, ev, scoped := strings.Cut(k, "/")
		if !scoped {
			st, ev = "", k
		}
		if !events[ev] || (scoped && !states[st]) {
			return fmt.Errorf("%s machine: senders for undeclared %q", s.Name, k)
		}
	}
	for _, e := range s.Events {
		for _, src := range e.Src {
			if s.Sender(src, e.Name) == "" {
				return fmt.Errorf("%s machine: transition %s -%s-> %s has no sender", s.Name, src, e.Name, e.Dst)
			}
		}
	}
	return nil
}

// CheckCallbacks checks that every key is one of looplab/fsm's generic keys
// (before_event, leave_state, enter_state, after_event) or names a declared
// state or event with an explicit prefix, and that every named key is
// documented in CallbackDocs, so that a misspelled key fails loudly instead
// of never running.
func (s *Spec) CheckCallbacks(keys []string) error {
	states := map[string]bool{}
	for _, st := range s.States {
		states[st] = true
	}
	events := map[string]bool{}
	for _, e := range s.EventNames() {
		events[e] = true
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := s.checkKey(k, states, events); err != nil {
			return err
		}
		if _, ok := s.CallbackDocs[k]; !ok && !generic(k) {
			return fmt.Errorf("%s machine: callback %q has no doc", s.Name, k)
		}
	}
	return nil
}

func generic(k string) bool {
	switch k {
	case "before_event", "after_event", "enter_state", "leave_state":
		return true
	}
	return false
}

func (s *Spec) checkKey(k string, states, events map[string]bool) error {
	if generic(k) {
		return nil
	}
	prefix, target, ok := strings.Cut(k, "_")
	// State and event names may themselves contain underscores
	// ("enter_lame_duck"), so cut only at the first one.
	if !ok {
		return fmt.Errorf("%s machine: callback key %q has no before_/leave_/enter_/after_ prefix", s.Name, k)
	}
	switch prefix {
	case "before", "after":
		if !events[target] {
			return fmt.Errorf("%s machine: callback key %q names no declared event", s.Name, k)
		}
	case "leave", "enter":
		if !states[target] {
			return fmt.Errorf("%s machine: callback key %q names no declared state", s.Name, k)
		}
	default:
		return fmt.Errorf("%s machine: callback key %q has no before_/leave_/enter_/after_ prefix", s.Name, k)
	}
	return nil
}

// NewFSM builds a looplab/fsm instance of the declaration with the given
// callbacks, after checking every callback key.
func (s *Spec) NewFSM(cbs fsm.Callbacks) (*fsm.FSM, error) {
	keys := make([]string, 0, len(cbs))
	for k := range cbs {
		keys = append(keys, k)
	}
	if err := s.CheckCallbacks(keys); err != nil {
		return nil, err
	}
	return fsm.NewFSM(s.Initial, s.Events, cbs), nil
}

// MustValidate panics when the declaration is inconsistent. Packages call it
// from their declaration's initialisation: a broken declaration is a
// programming error caught by every test run.
func (s *Spec) MustValidate() *Spec {
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return s
}
