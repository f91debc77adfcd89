package machine

import "fmt"

// Refused marks a (state, event) pair the declaration does not allow in a
// [Table].
const Refused = -1

// Table is the compiled form of a [Spec]: states and events are small
// integers (their index in [Spec.States] and [Spec.EventNames]) and the next
// state is one array lookup. It is built from the declaration, never written
// by hand, and is read-only, so one Table serves every instance of a
// machine.
type Table struct {
	states []string
	events []string
	next   []int8 // next[state*len(events)+event]
}

// Compile builds the lookup table of the declaration. It panics when the
// declaration is invalid, since the declaration is a compile-time constant.
func (s *Spec) Compile() *Table {
	s.MustValidate()
	t := &Table{states: s.States, events: s.EventNames()}
	if len(t.states) > 127 {
		panic(fmt.Sprintf("%s machine: too many states for a Table", s.Name))
	}
	t.next = make([]int8, len(t.states)*len(t.events))
	for i := range t.next {
		t.next[i] = Refused
	}
	for si, st := range t.states {
		for ei, ev := range t.events {
			if dst, ok := s.Next(st, ev); ok {
				t.next[si*len(t.events)+ei] = int8(t.StateIndex(dst))
			}
		}
	}
	return t
}

// Next returns the state event leads to from state, or [Refused].
func (t *Table) Next(state, event int) int {
	return int(t.next[state*len(t.events)+event])
}

// StateIndex returns the index of a declared state, or -1.
func (t *Table) StateIndex(name string) int {
	for i, s := range t.states {
		if s == name {
			return i
		}
	}
	return -1
}

// EventIndex returns the index of a declared event, or -1.
func (t *Table) EventIndex(name string) int {
	for i, e := range t.events {
		if e == name {
			return i
		}
	}
	return -1
}

// MustMatch panics unless the table's states and events are exactly the
// given names in the given order. A package calls it once to prove that its
// typed enums index the table correctly.
func (t *Table) MustMatch(states, events []string) *Table {
	if fmt.Sprint(states) != fmt.Sprint(t.states) {
		panic(fmt.Sprintf("state enum %v does not match declaration %v", states, t.states))
	}
	if fmt.Sprint(events) != fmt.Sprint(t.events) {
		panic(fmt.Sprintf("event enum %v does not match declaration %v", events, t.events))
	}
	return t
}
