package main

import (
	"fmt"
	"strings"

	"github.com/natsd/natsd/internal/machine"
)

// mermaid returns the machine as a Mermaid stateDiagram-v2: the initial
// state from [*], every declared transition labelled with its event and
// who sends it ([edgeLabel]), and every final state (one no event leaves)
// to [*].
//
// fsmgen writes the diagram itself rather than calling looplab/fsm's
// Visualize: Visualize marks an instance's current state, sorts transitions
// alphabetically, shows only states that appear in a transition and has no
// start or end marks. Drawing from the [machine.Spec] keeps declaration
// order and needs no instance.
func mermaid(d decl) string {
	s := d.spec
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	fmt.Fprintf(&b, "    %%%% %s from %s (%s); DO NOT EDIT. Run `make docs`.\n", banner, d.name, d.file)
	fmt.Fprintf(&b, "    [*] --> %s\n", s.Initial)
	for _, e := range edges(s) {
		fmt.Fprintf(&b, "    %s --> %s: %s\n", e.from, e.to, edgeLabel(s, e, " "))
	}
	for _, st := range s.States {
		if final(s, st) {
			fmt.Fprintf(&b, "    %s --> [*]\n", st)
		}
	}
	return b.String()
}

// dot returns the machine as a Graphviz digraph, laid out left to right:
// a dot for the initial pseudo-state, one rounded box per declared state
// (in declaration order), one edge per declared transition labelled with
// its event and who sends it, and a bull's eye after each final state. Hovering a state in the SVG shows what
// holds in it; hovering a transition shows who sends its event.
func dot(d decl) string {
	s := d.spec
	var b strings.Builder
	fmt.Fprintf(&b, "// %s from %s (%s); DO NOT EDIT. Run `make docs`.\n", banner, d.name, d.file)
	fmt.Fprintf(&b, "digraph %s {\n", s.Name)
	fmt.Fprintf(&b, "\tgraph [rankdir=LR, nodesep=0.5, ranksep=0.6, fontname=Helvetica, fontsize=16, labelloc=t, label=%s];\n", quote("natsd "+s.Name+" machine"))
	b.WriteString("\tnode [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", color=\"#3b5b8c\", fontname=Helvetica, fontsize=14, margin=\"0.2,0.08\"];\n")
	b.WriteString("\tedge [color=\"#3b5b8c\", fontname=Helvetica, fontsize=12];\n")
	b.WriteString("\n")
	fmt.Fprintf(&b, "\t__start [shape=point, width=0.18, height=0.18, style=filled, fillcolor=black, color=black, tooltip=%s];\n", quote("initial state: "+s.Initial))
	for _, st := range s.States {
		fmt.Fprintf(&b, "\t%s [tooltip=%s];\n", quote(st), quote(st+": "+s.StateDocs[st]))
	}
	fmt.Fprintf(&b, "\t__end [shape=point, width=0.18, height=0.18, peripheries=2, style=filled, fillcolor=black, color=black, tooltip=%s];\n", quote("end"))
	b.WriteString("\n")
	fmt.Fprintf(&b, "\t__start -> %s;\n", quote(s.Initial))
	for _, e := range edges(s) {
		fmt.Fprintf(&b, "\t%s -> %s [label=%s, tooltip=%s];\n", quote(e.from), quote(e.to), quote(edgeLabel(s, e, "\n")), quote(e.event+": "+s.EventDocs[e.event]))
	}
	for _, st := range s.States {
		if final(s, st) {
			fmt.Fprintf(&b, "\t%s -> __end;\n", quote(st))
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// edgeLabel is an edge's label: the event, then sep, then who sends it on
// this edge in brackets ("enter_lame_duck (SIGUSR2, --signal ldm, API)").
func edgeLabel(s *machine.Spec, e edge, sep string) string {
	return e.event + sep + "(" + s.Sender(e.from, e.event) + ")"
}

// quote returns s as a DOT double-quoted string.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
