package machine

import (
	"fmt"
	"slices"
)

// Answer is what a machine answers to an event in a state: the event moves
// it (a declared transition), or it moves nothing and the request is
// refused, ignored or answered as the same request already under way.
type Answer int

const (
	// Refuse: the event is not declared in the state; the request fails
	// with an error naming the state and the event. The answer of every
	// pair that neither [Spec.Events] nor [Spec.NoMoves] declares.
	Refuse Answer = iota
	// Move: the event is declared in the state; the transition runs.
	Move
	// Ignore: nothing happens and the request succeeds; the machine logs
	// that it ignored it.
	Ignore
	// Idempotent: the request asks for what is already under way or done;
	// nothing more happens and the request succeeds as the first did.
	Idempotent
)

var answerNames = []string{Refuse: "refused", Move: "moves", Ignore: "ignored", Idempotent: "idempotent"}

// String returns the answer's name as the generated tables show it.
func (a Answer) String() string {
	if a >= 0 && int(a) < len(answerNames) {
		return answerNames[a]
	}
	return fmt.Sprintf("Answer(%d)", int(a))
}

// NoMove declares the answer to an event in states where it moves nothing
// but is not refused.
type NoMove struct {
	Event  string
	Src    []string
	Answer Answer // Ignore or Idempotent
	// Doc says what happens instead of a transition, for the tables.
	Doc string
}

// Answer returns the declared answer to event in state.
func (s *Spec) Answer(state, event string) Answer {
	if _, ok := s.Next(state, event); ok {
		return Move
	}
	if nm, ok := s.noMove(state, event); ok {
		return nm.Answer
	}
	return Refuse
}

// NoMoveDoc returns the doc of the declared no-move answer to event in
// state, or "" when there is none.
func (s *Spec) NoMoveDoc(state, event string) string {
	nm, _ := s.noMove(state, event)
	return nm.Doc
}

func (s *Spec) noMove(state, event string) (NoMove, bool) {
	for _, nm := range s.NoMoves {
		if nm.Event == event && slices.Contains(nm.Src, state) {
			return nm, true
		}
	}
	return NoMove{}, false
}

// Settled returns the answer to event in state and whether it is settled:
// the same in every state that can follow state, so that nothing the
// machine does meanwhile can change it. A request whose answer is settled
// may be answered without waiting for the machine's owner; any other must
// be answered by the owner, in the state the machine is in by then.
func (s *Spec) Settled(state, event string) (Answer, bool) {
	a := s.Answer(state, event)
	if a == Move {
		return a, false
	}
	seen := map[string]bool{state: true}
	todo := []string{state}
	for len(todo) > 0 {
		st := todo[0]
		todo = todo[1:]
		if s.Answer(st, event) != a {
			return a, false
		}
		for _, ev := range s.EventNames() {
			if next, ok := s.Next(st, ev); ok && !seen[next] {
				seen[next] = true
				todo = append(todo, next)
			}
		}
	}
	return a, true
}

// validateNoMoves checks that every no-move answer names declared states
// and events, is Ignore or Idempotent, is documented, and is declared for
// no pair that the Events move or another no-move answer declares.
func (s *Spec) validateNoMoves(states, events map[string]bool) error {
	seen := map[[2]string]bool{}
	for _, nm := range s.NoMoves {
		if !events[nm.Event] {
			return fmt.Errorf("%s machine: no-move answer for undeclared event %q", s.Name, nm.Event)
		}
		if nm.Answer != Ignore && nm.Answer != Idempotent {
			return fmt.Errorf("%s machine: no-move answer to %q must be ignored or idempotent, not %s", s.Name, nm.Event, nm.Answer)
		}
		if nm.Doc == "" {
			return fmt.Errorf("%s machine: no-move answer to %q has no doc", s.Name, nm.Event)
		}
		for _, src := range nm.Src {
			if !states[src] {
				return fmt.Errorf("%s machine: no-move answer to %q in undeclared state %q", s.Name, nm.Event, src)
			}
			if _, moves := s.Next(src, nm.Event); moves {
				return fmt.Errorf("%s machine: event %q moves from %q and has a no-move answer there too", s.Name, nm.Event, src)
			}
			if seen[[2]string{src, nm.Event}] {
				return fmt.Errorf("%s machine: no-move answer to %q declared twice in %q", s.Name, nm.Event, src)
			}
			seen[[2]string{src, nm.Event}] = true
		}
	}
	return nil
}
