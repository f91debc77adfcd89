package machine

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/looplab/fsm"
	"go.uber.org/goleak"
	"gotest.tools/v3/assert"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func spec() *Spec {
	return &Spec{
		Name:    "door",
		Initial: "closed",
		States:  []string{"closed", "open", "broken"},
		Events: fsm.Events{
			{Name: "open", Src: []string{"closed"}, Dst: "open"},
			{Name: "close", Src: []string{"open"}, Dst: "closed"},
			{Name: "kick", Src: []string{"closed", "open"}, Dst: "broken"},
			{Name: "paint", Src: []string{"closed"}, Dst: "closed"},
		},
		StateDocs:    map[string]string{"closed": "c", "open": "o", "broken": "b"},
		EventDocs:    map[string]string{"open": "o", "close": "c", "kick": "k", "paint": "p"},
		CallbackDocs: map[string]string{"enter_open": "e", "leave_state": "l", "before_paint": "b", "after_event": "a"},
	}
}

func TestValidateRefusesInconsistentDeclarations(t *testing.T) {
	assert.NilError(t, spec().Validate())
	cases := []struct {
		name string
		mod  func(*Spec)
		want string
	}{
		{"undeclared initial", func(s *Spec) { s.Initial = "ajar" }, `initial state "ajar" is not declared`},
		{"undeclared destination", func(s *Spec) { s.Events[0].Dst = "ajar" }, `leads to undeclared state "ajar"`},
		{"undeclared source", func(s *Spec) { s.Events[0].Src = []string{"ajar"} }, `starts from undeclared state "ajar"`},
		{"duplicate pair", func(s *Spec) {
			s.Events = append(s.Events, fsm.EventDesc{Name: "open", Src: []string{"closed"}, Dst: "broken"})
		}, `declared twice from "closed"`},
		{"state without doc", func(s *Spec) { delete(s.StateDocs, "broken") }, `state "broken" has no doc`},
		{"event without doc", func(s *Spec) { delete(s.EventDocs, "kick") }, `event "kick" has no doc`},
		{"misspelled callback", func(s *Spec) { s.CallbackDocs["enter_opne"] = "x" }, `names no declared state`},
		{"callback without prefix", func(s *Spec) { s.CallbackDocs["open"] = "x" }, `has no before_/leave_/enter_/after_ prefix`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := spec()
			tc.mod(s)
			assert.ErrorContains(t, s.Validate(), tc.want)
		})
	}
}

// TestCompiledTableMatchesLooplab: for every state × event the compiled
// table and a looplab/fsm instance of the same declaration agree.
func TestCompiledTableMatchesLooplab(t *testing.T) {
	s := spec()
	table := s.Compile()
	for si, st := range s.States {
		for ei, ev := range s.EventNames() {
			f := fsm.NewFSM(s.Initial, s.Events, nil)
			f.SetState(st)
			next := table.Next(si, ei)
			assert.Equal(t, f.Can(ev), next != Refused, "(%s, %s)", st, ev)
			if next != Refused {
				dst, _ := s.Next(st, ev)
				assert.Equal(t, s.States[next], dst)
			}
		}
	}
	assert.Equal(t, table.StateIndex("broken"), 2)
	assert.Equal(t, table.EventIndex("paint"), 3)
	assert.Equal(t, table.EventIndex("fly"), -1)
}

func TestCallbacksInLooplabOrder(t *testing.T) {
	s := spec()
	assert.DeepEqual(t, s.Callbacks("closed", "open"), []string{"leave_state", "enter_open", "after_event"})
	// A self-transition runs no leave/enter callbacks.
	assert.DeepEqual(t, s.Callbacks("closed", "paint"), []string{"before_paint", "after_event"})
	assert.Assert(t, s.Callbacks("broken", "open") == nil)
}

func TestHistoryIsBoundedAndReadableWhileRecording(t *testing.T) {
	h := NewHistory(3)
	assert.Equal(t, len(h.Snapshot()), 0)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 1000 {
			_ = h.Snapshot()
		}
	}()
	for i := range 5 {
		h.Record(Transition{From: fmt.Sprint(i), To: fmt.Sprint(i + 1), At: time.Unix(int64(i), 0)})
	}
	wg.Wait()
	got := h.Snapshot()
	assert.Equal(t, len(got), 3)
	assert.Equal(t, got[0].From, "2")
	assert.Equal(t, got[2].To, "5")
}
