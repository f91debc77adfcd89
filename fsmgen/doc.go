// Command fsmgen draws natsd's declared state machines, the server's
// ([lifecycle.Machine]), each connection's ([conn.Machine]) and each
// route's ([route.Machine]), and writes
// the pictures, tables and the lifecycle guide into a docs directory:
//
//	go run ./fsmgen -out docs    # what `make docs` and `go generate ./lifecycle` run
//
// For each machine NAME ("server", "connection", "route") it writes NAME.mmd (a
// Mermaid stateDiagram-v2), NAME.dot (Graphviz), NAME.svg (the DOT rendered
// in pure Go by github.com/goccy/go-graphviz) and NAME-transitions.md (every
// state × every event → next state or "refused", and the callbacks each
// transition runs). It also writes close-reasons.md (from [conn.ClosedState]),
// system-account.md (from [system.Events], [system.Requests] and the
// server machine's transitions, which the LIFECYCLE event publishes),
// lifecycle.md (from the template lifecycle.md.tmpl, with the diagrams and
// tables embedded) and README.md (an index).
//
// Invariants:
//   - Everything is read from the declarations the daemon runs, never from a
//     copy: states, events and transitions from the [machine.Spec], the
//     sentences from its StateDocs, EventDocs and CallbackDocs, the close
//     reasons from the methods of [conn.ClosedState].
//   - Output is deterministic: states and events in declaration order,
//     close reasons by number, no time stamps. Regenerating without a change
//     rewrites nothing (files are written only when their bytes change).
//   - Every generated file carries the [banner], so the freshness test can
//     tell generated files from hand-written ones in the same directory.
//   - Nothing imports fsmgen, and the daemon never links go-graphviz.
//
// The SVG renderer is left out of -race builds (render_race.go): go-graphviz
// compiles its embedded WebAssembly module when its package initialises, in
// every binary that links it, test binaries included. Under the race
// detector that takes about 7 s on an idle 2-core machine with a cold cache
// (27 s on a busy one) against 1 to 2 s warm; the render itself takes a few
// milliseconds. `make test` runs with -race, so there the freshness test
// checks each committed SVG against the digest of the DOT it was rendered
// from (stamped on its second line) instead of rendering it again; without
// -race it compares the rendered bytes too.
package main
