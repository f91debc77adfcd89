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
		NoMoves: []NoMove{
			{Event: "open", Src: []string{"open"}, Answer: Idempotent, Doc: "already open"},
			{Event: "kick", Src: []string{"broken"}, Answer: Ignore, Doc: "nothing left to break"},
		},
		StateDocs:    map[string]string{"closed": "c", "open": "o", "broken": "b"},
		EventDocs:    map[string]string{"open": "o", "close": "c", "kick": "k", "paint": "p"},
		Senders:      map[string]string{"open": "hand", "close": "wind", "kick": "foot", "open/kick": "boot", "paint": "brush"},
		CallbackDocs: map[string]string{"enter_open": "e", "leave_state": "l", "before_paint": "b", "after_event": "a"},
	}
}

// TestAnswers: every pair answers as declared: moves where Events say,
// ignored or idempotent where NoMoves say, refused everywhere else; an
// answer is settled when no later state can change it.
func TestAnswers(t *testing.T) {
	s := spec()
	cases := []struct {
		state, event string
		want         Answer
		settled      bool
	}{
		{"closed", "open", Move, false},
		{"open", "open", Idempotent, false}, // kick leads to broken, where open is refused
		{"closed", "close", Refuse, false},  // open leads to open, where close moves
		{"broken", "kick", Ignore, true},
		{"broken", "open", Refuse, true},
		{"broken", "paint", Refuse, true},
	}
	for _, tc := range cases {
		t.Run(tc.state+"/"+tc.event, func(t *testing.T) {
			assert.Equal(t, s.Answer(tc.state, tc.event), tc.want)
			got, settled := s.Settled(tc.state, tc.event)
			assert.Equal(t, got, tc.want)
			assert.Equal(t, settled, tc.settled)
		})
	}
	assert.Equal(t, s.NoMoveDoc("broken", "kick"), "nothing left to break")
	assert.Equal(t, s.NoMoveDoc("closed", "kick"), "")
	assert.Equal(t, s.Sender("closed", "kick"), "foot")
	assert.Equal(t, s.Sender("open", "kick"), "boot")
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
		{"no-move on a moving pair", func(s *Spec) { s.NoMoves[0].Src = []string{"closed"} }, `moves from "closed" and has a no-move answer there too`},
		{"no-move answer that moves", func(s *Spec) { s.NoMoves[0].Answer = Move }, `must be ignored or idempotent, not moves`},
		{"no-move without doc", func(s *Spec) { s.NoMoves[1].Doc = "" }, `no-move answer to "kick" has no doc`},
		{"no-move for undeclared event", func(s *Spec) { s.NoMoves[1].Event = "lock" }, `no-move answer for undeclared event "lock"`},
		{"no-move declared twice", func(s *Spec) { s.NoMoves = append(s.NoMoves, s.NoMoves[1]) }, `declared twice in "broken"`},
		{"edge without sender", func(s *Spec) { delete(s.Senders, "close") }, `transition open -close-> closed has no sender`},
		{"sender for undeclared event", func(s *Spec) { s.Senders["ajar/open"] = "x" }, `senders for undeclared "ajar/open"`},
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
