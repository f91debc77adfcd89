package main

import "github.com/natsd/natsd/internal/machine"

// edge is one declared transition.
type edge struct {
	from, event, to string
}

// edges lists the declared transitions in table order: states in
// declaration order, then events in declaration order.
func edges(s *machine.Spec) []edge {
	var out []edge
	for _, st := range s.States {
		for _, ev := range s.EventNames() {
			if to, ok := s.Next(st, ev); ok {
				out = append(out, edge{st, ev, to})
			}
		}
	}
	return out
}

// final reports whether no declared event leaves state.
func final(s *machine.Spec, state string) bool {
	for _, ev := range s.EventNames() {
		if _, ok := s.Next(state, ev); ok {
			return false
		}
	}
	return true
}

// successors lists the states one declared event leads to from state
// (itself included for a self-transition), in declaration order.
func successors(s *machine.Spec, state string) []string {
	next := map[string]bool{}
	for _, ev := range s.EventNames() {
		if to, ok := s.Next(state, ev); ok {
			next[to] = true
		}
	}
	var out []string
	for _, st := range s.States {
		if next[st] {
			out = append(out, st)
		}
	}
	return out
}

// sources lists the states from which event is declared, in declaration
// order, and where it leads.
func sources(s *machine.Spec, event string) (from []string, to string) {
	for _, st := range s.States {
		if dst, ok := s.Next(st, event); ok {
			from = append(from, st)
			to = dst
		}
	}
	return from, to
}
