package route

import (
	"context"
	"testing"

	"github.com/looplab/fsm"
	"github.com/natsd/natsd/internal/machine"
	"gotest.tools/v3/assert"
)

// wantRoute is the route machine as intended, written out by hand.
var wantRoute = map[State]map[Event]State{
	Connecting:  {EventConnected: Handshaking, EventStartTLS: Securing, EventDialFailed: Retrying, EventGiveUp: Closed, EventCancel: Closed},
	Retrying:    {EventRetry: Connecting, EventCancel: Closed},
	Securing:    {EventSecured: Handshaking, EventClose: Closing},
	Handshaking: {EventRegistered: Active, EventClose: Closing},
	Active:      {EventClose: Closing},
	Closing:     {EventDone: Closed},
	Closed:      {},
}

// TestMachineMatchesIntent enumerates every state × event: the declaration,
// the compiled table and a looplab/fsm instance agree with the hand-written
// table.
func TestMachineMatchesIntent(t *testing.T) {
	assert.Equal(t, len(Machine.States), len(wantRoute), "a state was added or removed: update wantRoute")
	assert.Equal(t, len(Machine.EventNames()), len(eventNames))
	for si, st := range Machine.States {
		for ei, ev := range Machine.EventNames() {
			want, ok := wantRoute[State(si)][Event(ei)]
			dst, declared := Machine.Next(st, ev)
			assert.Equal(t, declared, ok, "(%s, %s)", st, ev)
			next := table.Next(si, ei)
			if !ok {
				assert.Equal(t, next, machine.Refused, "(%s, %s)", st, ev)
				continue
			}
			assert.Equal(t, dst, want.String())
			assert.Equal(t, State(next), want)
			f := fsm.NewFSM(Machine.Initial, Machine.Events, nil)
			f.SetState(st)
			assert.NilError(t, f.Event(context.Background(), ev))
			assert.Equal(t, f.Current(), want.String())
		}
	}
}

func TestCallbackKeysAreDeclared(t *testing.T) {
	keys := make([]string, 0, len(Machine.CallbackDocs))
	for k := range Machine.CallbackDocs {
		keys = append(keys, k)
	}
	assert.NilError(t, Machine.CheckCallbacks(keys))
	for k := range Machine.CallbackDocs {
		assert.Check(t, callbackFns[k] != nil, "callback %s has no function", k)
	}
}

// TestCallbackOrder: the compiled callback lists are the declaration's
// (looplab/fsm's order), before_ first.
func TestCallbackOrder(t *testing.T) {
	assert.DeepEqual(t, callbacks[Handshaking][EventRegistered],
		[]string{"before_registered", "leave_state", "enter_active"})
	assert.DeepEqual(t, callbacks[Active][EventClose], []string{"leave_state", "enter_closing"})
	assert.DeepEqual(t, callbacks[Connecting][EventCancel], []string{"leave_state", "enter_closed"})
	assert.Assert(t, callbacks[Closed][EventClose] == nil)
}
