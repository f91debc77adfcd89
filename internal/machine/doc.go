// Package machine holds what natsd's two declared state machines share: the
// [Spec] type that carries a looplab/fsm declaration together with the
// answers to the requests it does not move on ([Answer]: ignored,
// idempotent or refused) and the sentences that document it, a compiled
// lookup table built from that declaration, and a bounded transition
// [History].
//
// Invariants:
//   - A [Spec] is the single source of truth for its machine. The server
//     drives a looplab/fsm instance built from it, the connection drives the
//     [Table] compiled from it, fsmgen draws it and the tests enumerate it.
//     Nothing else lists states, events, transitions or the answers to
//     requests that move nothing by hand.
//   - Every callback key and every doc key names a declared state or event;
//     [Spec.Validate] refuses a misspelled one (looplab/fsm would silently
//     ignore it).
//   - [History] readers never block the goroutine that records transitions.
package machine
