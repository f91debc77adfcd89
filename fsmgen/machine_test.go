package main

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/looplab/fsm"
	"gotest.tools/v3/assert"
)

// TestCallbacksAreWhatLooplabRuns drives a looplab/fsm instance of each
// declaration through every allowed transition, with a recorder on every
// documented callback key, and checks that the generated table lists what
// looplab runs, in the order it runs it.
func TestCallbacksAreWhatLooplabRuns(t *testing.T) {
	for _, d := range machines {
		s := d.spec
		for _, e := range edges(s) {
			t.Run(s.Name+"/"+e.from+"/"+e.event, func(t *testing.T) {
				var ran []string
				cbs := fsm.Callbacks{}
				for k := range s.CallbackDocs {
					cbs[k] = func(context.Context, *fsm.Event) { ran = append(ran, k) }
				}
				f := fsm.NewFSM(s.Initial, s.Events, cbs)
				f.SetState(e.from)
				err := f.Event(context.Background(), e.event)
				if e.from == e.to {
					assert.ErrorType(t, err, fsm.NoTransitionError{})
				} else {
					assert.NilError(t, err)
				}
				assert.Equal(t, f.Current(), e.to)
				assert.DeepEqual(t, s.Callbacks(e.from, e.event), ran)
			})
		}
	}
}

// TestEveryDocumentedCallbackRuns: a documented callback that no declared
// transition runs (enter_init, say) would be a doc for nothing.
func TestEveryDocumentedCallbackRuns(t *testing.T) {
	for _, d := range machines {
		used := map[string]bool{}
		for _, e := range edges(d.spec) {
			for _, k := range d.spec.Callbacks(e.from, e.event) {
				used[k] = true
			}
		}
		for k := range d.spec.CallbackDocs {
			assert.Check(t, used[k], "%s machine: callback %q is documented but no transition runs it", d.spec.Name, k)
		}
	}
}

// TestDiagramsAgreeWithLooplab: the transitions fsmgen draws are exactly
// those looplab/fsm's own Visualize finds in a fresh instance.
func TestDiagramsAgreeWithLooplab(t *testing.T) {
	line := regexp.MustCompile(`"([^"]+)" -> "([^"]+)" \[ label = "([^"]+)" \];`)
	for _, d := range machines {
		s := d.spec
		var theirs []string
		for _, m := range line.FindAllStringSubmatch(fsm.Visualize(fsm.NewFSM(s.Initial, s.Events, nil)), -1) {
			theirs = append(theirs, fmt.Sprintf("%s -%s-> %s", m[1], m[3], m[2]))
		}
		var ours []string
		mmd := mermaid(d)
		gv := dot(d)
		for _, e := range edges(s) {
			ours = append(ours, fmt.Sprintf("%s -%s-> %s", e.from, e.event, e.to))
			assert.Check(t, strings.Contains(mmd, fmt.Sprintf("    %s --> %s: %s (", e.from, e.to, e.event)), "%s.mmd lacks %v", s.Name, e)
			assert.Check(t, strings.Contains(gv, fmt.Sprintf("\t%q -> %q [label=\"%s\\n(", e.from, e.to, e.event)), "%s.dot lacks %v", s.Name, e)
		}
		sort.Strings(theirs)
		sort.Strings(ours)
		assert.DeepEqual(t, ours, theirs)
	}
}

// TestRefusedPairsRunNothing: a pair the declaration refuses lists no
// callback.
func TestRefusedPairsRunNothing(t *testing.T) {
	for _, d := range machines {
		for _, st := range d.spec.States {
			for _, ev := range d.spec.EventNames() {
				if _, ok := d.spec.Next(st, ev); !ok {
					assert.Check(t, d.spec.Callbacks(st, ev) == nil, "refused (%s, %s) runs callbacks", st, ev)
				}
			}
		}
	}
}
