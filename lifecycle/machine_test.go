package lifecycle

import (
	"fmt"
	"testing"

	"github.com/looplab/fsm"
	"github.com/natsd/natsd/internal/machine"
	"gotest.tools/v3/assert"
)

// wantServer is the server machine as intended, written out by hand: for
// each state, what each event leads to ("" = refused).
var wantServer = map[State]map[string]State{
	Init: {
		EventStart:    Listening,
		EventShutdown: ShuttingDown,
	},
	Listening: {
		EventReload:        Listening,
		EventUpgrade:       Upgrading,
		EventEnterLameDuck: LameDuck,
		EventShutdown:      ShuttingDown,
	},
	// Reload and another upgrade are refused while upgrading.
	Upgrading: {
		EventHandoff:       LameDuck,
		EventRollback:      Listening,
		EventEnterLameDuck: LameDuck,
		EventShutdown:      ShuttingDown,
	},
	LameDuck: {
		EventShutdown: ShuttingDown,
	},
	ShuttingDown: {
		EventStopped: Stopped,
	},
	Stopped: {},
}

// wantNoMove is the intended answer to the requests that move nothing but
// are not refused; every other pair that wantServer leaves out is refused.
var wantNoMove = map[State]map[string]machine.Answer{
	LameDuck:     {EventEnterLameDuck: machine.Ignore},
	ShuttingDown: {EventEnterLameDuck: machine.Ignore, EventShutdown: machine.Idempotent},
	Stopped:      {EventEnterLameDuck: machine.Ignore, EventShutdown: machine.Idempotent},
}

// TestMachineAnswersMatchIntent: every state × event answers as intended:
// moves where wantServer says, ignored or idempotent where wantNoMove says,
// refused elsewhere.
func TestMachineAnswersMatchIntent(t *testing.T) {
	for _, st := range Machine.States {
		state := stateFromName(st)
		for _, ev := range Machine.EventNames() {
			want := machine.Refuse
			if _, ok := wantServer[state][ev]; ok {
				want = machine.Move
			} else if a, ok := wantNoMove[state][ev]; ok {
				want = a
			}
			assert.Equal(t, Machine.Answer(st, ev), want, "(%s, %s)", st, ev)
		}
	}
}

// TestMachineDeclarationMatchesIntent enumerates every state × event of the
// declaration (so a new state or event cannot be missed) and checks each
// outcome against the hand-written table.
func TestMachineDeclarationMatchesIntent(t *testing.T) {
	assert.Equal(t, len(Machine.States), len(wantServer), "a state was added or removed: update wantServer")
	for _, st := range Machine.States {
		state := stateFromName(st)
		want, ok := wantServer[state]
		assert.Assert(t, ok, "state %q is declared but not in wantServer", st)
		for _, ev := range Machine.EventNames() {
			t.Run(st+"/"+ev, func(t *testing.T) {
				got, allowed := Machine.Next(st, ev)
				wantState, wantAllowed := want[ev]
				assert.Equal(t, allowed, wantAllowed, "(%s, %s): declared allowed=%v, intended %v", st, ev, allowed, wantAllowed)
				if allowed {
					assert.Equal(t, got, wantState.String())
				}
			})
		}
		for ev := range want {
			_, declared := Machine.Next(st, ev)
			assert.Assert(t, declared, "intended (%s, %s) is not declared", st, ev)
		}
	}
}

// TestMachineLooplabAgrees drives a bare looplab/fsm instance of the
// declaration through every pair and checks it agrees with the table: the
// declaration means what the table says it means.
func TestMachineLooplabAgrees(t *testing.T) {
	for _, st := range Machine.States {
		for _, ev := range Machine.EventNames() {
			f := fsm.NewFSM(Machine.Initial, Machine.Events, nil)
			f.SetState(st)
			want, ok := wantServer[stateFromName(st)][ev]
			assert.Equal(t, f.Can(ev), ok, "looplab Can(%s) in %s", ev, st)
			if ok && want.String() != st {
				assert.NilError(t, f.Event(t.Context(), ev))
				assert.Equal(t, f.Current(), want.String())
			}
		}
	}
}

// TestCallbackKeysAreDeclared guards against a misspelled callback key,
// which looplab/fsm would silently never run.
func TestCallbackKeysAreDeclared(t *testing.T) {
	assert.NilError(t, Machine.Validate())
	keys := make([]string, 0, len(Machine.CallbackDocs))
	for k := range Machine.CallbackDocs {
		keys = append(keys, k)
	}
	assert.NilError(t, Machine.CheckCallbacks(keys))
	assert.ErrorContains(t, Machine.CheckCallbacks([]string{"enter_listenng"}), "names no declared state")
	assert.ErrorContains(t, Machine.CheckCallbacks([]string{"before_strat"}), "names no declared event")
}

func TestStateStrings(t *testing.T) {
	for i, name := range []string{"init", "listening", "upgrading", "lame_duck", "shutting_down", "stopped"} {
		assert.Equal(t, State(i).String(), name)
	}
	assert.Equal(t, State(99).String(), fmt.Sprintf("State(%d)", 99))
}
