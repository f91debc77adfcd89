package main

import (
	"fmt"
	"strings"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/internal/machine"
)

// code returns s as inline Markdown code.
func code(s string) string { return "`" + s + "`" }

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// codes returns the names as inline code, joined by ", ".
func codes(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = code(n)
	}
	return strings.Join(out, ", ")
}

// statesTable lists each state, what holds in it and which states may
// follow it.
func statesTable(s *machine.Spec) string {
	var b strings.Builder
	b.WriteString("| state | what holds in it | may be followed by |\n|---|---|---|\n")
	for _, st := range s.States {
		next := "— (final)"
		if n := successors(s, st); len(n) > 0 {
			next = codes(n)
		}
		name := code(st)
		if st == s.Initial {
			name += " (initial)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, cell(s.StateDocs[st]), next)
	}
	return b.String()
}

// eventsTable lists each event, where it is allowed, where it leads and
// who sends it.
func eventsTable(s *machine.Spec) string {
	var b strings.Builder
	b.WriteString("| event | from | to | who sends it |\n|---|---|---|---|\n")
	for _, ev := range s.EventNames() {
		from, to := sources(s, ev)
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code(ev), codes(from), code(to), cell(s.EventDocs[ev]))
	}
	return b.String()
}

// matrixTable is every state × every event: the next state, or the answer
// of a request that moves nothing (ignored, idempotent or refused), as the
// declaration says and the server answers.
func matrixTable(s *machine.Spec) string {
	var b strings.Builder
	b.WriteString("| state \\ event |")
	for _, ev := range s.EventNames() {
		fmt.Fprintf(&b, " %s |", code(ev))
	}
	b.WriteString("\n|---|")
	for range s.EventNames() {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, st := range s.States {
		fmt.Fprintf(&b, "| %s |", code(st))
		for _, ev := range s.EventNames() {
			if to, ok := s.Next(st, ev); ok {
				fmt.Fprintf(&b, " → %s |", code(to))
			} else {
				fmt.Fprintf(&b, " *%s* |", s.Answer(st, ev))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// noMovesTable lists the requests that move nothing but are not refused:
// the event, the states, the answer and what happens instead.
func noMovesTable(s *machine.Spec) string {
	var b strings.Builder
	b.WriteString("| event | in | answer | what happens |\n|---|---|---|---|\n")
	for _, nm := range s.NoMoves {
		fmt.Fprintf(&b, "| %s | %s | *%s* | %s |\n", code(nm.Event), codes(nm.Src), nm.Answer, cell(nm.Doc))
	}
	return b.String()
}

// callbacksTable lists every allowed transition with the callbacks it runs,
// in order, and what each does.
func callbacksTable(s *machine.Spec) string {
	var b strings.Builder
	b.WriteString("| from | event | to | callbacks, in the order they run |\n|---|---|---|---|\n")
	for _, e := range edges(s) {
		keys := s.Callbacks(e.from, e.event)
		steps := make([]string, len(keys))
		for i, k := range keys {
			steps[i] = fmt.Sprintf("%d. %s: %s", i+1, code(k), cell(s.CallbackDocs[k]))
		}
		what := "no callback"
		if len(steps) > 0 {
			what = strings.Join(steps, "<br>")
		}
		to := code(e.to)
		if e.to == e.from {
			to += " (self)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code(e.from), code(e.event), to, what)
	}
	return b.String()
}

// reasonsTable lists every close reason by number with its Go name, its
// text and whether closing for it flushes pending output.
func reasonsTable() string {
	var b strings.Builder
	b.WriteString("| # | name | text | pending output |\n|---:|---|---|---|\n")
	for r := conn.ClosedState(1); int(r) <= conn.NumClosedStates; r++ {
		flush := "flushed"
		if r.SkipsFlush() {
			flush = "**skipped**"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", int(r), code(r.Name()), cell(r.String()), flush)
	}
	return b.String()
}

// skipFlushReasons lists the texts of the reasons that skip the flush, by
// number.
func skipFlushReasons() []string {
	var out []string
	for r := conn.ClosedState(1); int(r) <= conn.NumClosedStates; r++ {
		if r.SkipsFlush() {
			out = append(out, r.String())
		}
	}
	return out
}

// mdBanner is the banner of a generated Markdown file.
func mdBanner(from string) string {
	return fmt.Sprintf("<!-- %s from %s; DO NOT EDIT. Run `make docs`. -->\n", banner, from)
}

// transitionsDoc is NAME-transitions.md: the machine's states, events,
// transition matrix and callbacks.
func transitionsDoc(d decl) string {
	s := d.spec
	var b strings.Builder
	b.WriteString(mdBanner(fmt.Sprintf("%s (%s)", d.name, d.file)))
	fmt.Fprintf(&b, "\n# The %s machine: states, events and transitions\n\n", s.Name)
	fmt.Fprintf(&b, "Generated from the declaration %s in [`%s`](../%s), which is what natsd runs. "+
		"The machine starts in %s. Picture: [%s](%s) ([Mermaid](%s), [DOT](%s)).\n\n",
		code(d.name), d.file, d.file, code(s.Initial), svgFile(d), svgFile(d), mermaidFile(d), dotFile(d))
	b.WriteString("## States\n\n")
	b.WriteString(statesTable(s))
	b.WriteString("\n## Events\n\n")
	b.WriteString(eventsTable(s))
	b.WriteString("\n## Every state × every event\n\n")
	b.WriteString(matrixLegend)
	b.WriteString(matrixTable(s))
	b.WriteString("\n## Requests that move nothing\n\n")
	b.WriteString(noMovesLegend)
	b.WriteString(noMovesTable(s))
	b.WriteString("\n## What each transition runs\n\n")
	b.WriteString("Each allowed transition with its callbacks in the order looplab/fsm runs them " +
		"(before the event, leaving the old state, entering the new one, after the event). " +
		"A self-transition runs no leave or enter callback.\n\n")
	b.WriteString(callbacksTable(s))
	return b.String()
}

// The sentences above the matrix and the no-move table, in every page that
// shows them.
const (
	matrixLegend = "The state each event leads to; where it leads nowhere, the declared answer: " +
		"*ignored* or *idempotent* (the request succeeds and changes nothing, see below) " +
		"or *refused* (the request fails with an error naming the event and the state).\n\n"
	noMovesLegend = "Declared beside the transitions (`NoMoves`); the runtime answers from the same " +
		"declaration. Every other pair the matrix does not move is refused.\n\n"
)

// reasonsDoc is close-reasons.md.
func reasonsDoc() string {
	var b strings.Builder
	b.WriteString(mdBanner("conn.ClosedState (conn/reason.go)"))
	b.WriteString("\n# Connection close reasons\n\n")
	b.WriteString("Every [`conn.ClosedState`](../conn/reason.go), generated from its methods: " +
		"the number and text are nats-server's (`String`), the name is the Go constant (`Name`), " +
		"and the last column is the flush-or-skip rule (`SkipsFlush`): whether the connection's " +
		"pending output is flushed before the socket closes, or skipped because the peer is gone " +
		"or not reading. The first reason recorded is the one reported; any skip-flush reason " +
		"recorded later still turns the flush off.\n\n")
	b.WriteString(reasonsTable())
	return b.String()
}

// readmeDoc is README.md: the index of docs/.
func readmeDoc() string {
	var b strings.Builder
	b.WriteString(mdBanner("lifecycle.Machine, conn.Machine and route.Machine"))
	b.WriteString("\n# natsd documentation\n\n")
	fmt.Fprintf(&b, "- [%s](%s): how the server and its connections start, drain and stop, "+
		"for an operator planning a rolling restart.\n", lifecycleFile, lifecycleFile)
	fmt.Fprintf(&b, "- [%s](%s): every connection close reason, its text and whether it flushes.\n", reasonsFile, reasonsFile)
	fmt.Fprintf(&b, "- [%s](%s): the system account's events (LIFECYCLE among them) and requests, for `nats server ...` and `nats events`.\n", systemFile, systemFile)
	b.WriteString("\n## The state machines\n\n")
	b.WriteString("Drawn from the declarations natsd runs; `make test` fails if they are stale.\n\n")
	b.WriteString("| machine | declared in | picture | Mermaid | Graphviz | transitions |\n|---|---|---|---|---|---|\n")
	for _, d := range machines {
		fmt.Fprintf(&b, "| %s | [`%s`](../%s) | [%s](%s) | [%s](%s) | [%s](%s) | [%s](%s) |\n",
			d.spec.Name, d.name, d.file, svgFile(d), svgFile(d), mermaidFile(d), mermaidFile(d),
			dotFile(d), dotFile(d), transitionsFile(d), transitionsFile(d))
	}
	for _, d := range machines {
		fmt.Fprintf(&b, "\n### %s\n\n![the %s machine](%s)\n\n", d.spec.Name, d.spec.Name, svgFile(d))
		b.WriteString("Each arrow is labelled with its event and, in brackets, who sends it.\n\n")
		b.WriteString(statesTable(d.spec))
	}
	b.WriteString("\n## Regenerating\n\n")
	b.WriteString("Everything here is written by [`fsmgen`](../fsmgen) (the prose of " + lifecycleFile +
		" comes from `fsmgen/" + templateFile + "`). After changing a declaration or the template, run\n\n" +
		"```sh\nmake docs            # or: go generate ./lifecycle\n```\n")
	return b.String()
}
