package conn

import (
	"context"
	"net"
	"testing"

	"github.com/looplab/fsm"
	"github.com/natsd/natsd/conn/subject"
	"github.com/natsd/natsd/internal/machine"
	"gotest.tools/v3/assert"
)

// wantConn is the connection machine as intended, written out by hand.
var wantConn = map[State]map[Event]State{
	Open:    {EventClose: Closing},
	Closing: {EventDone: Closed},
	Closed:  {},
}

// wantConnNoMove is the intended answer to the pairs that move nothing but
// are not refused: a second close only adds its reason.
var wantConnNoMove = map[State]map[Event]machine.Answer{
	Closing: {EventClose: machine.Idempotent},
	Closed:  {EventClose: machine.Idempotent},
}

// TestMachineMatchesIntent enumerates every state × event from the
// declaration and checks the declared outcome, the compiled table and a
// looplab/fsm instance all agree with the hand-written table.
func TestMachineMatchesIntent(t *testing.T) {
	assert.Equal(t, len(Machine.States), len(wantConn), "a state was added or removed: update wantConn")
	assert.Equal(t, len(Machine.EventNames()), len(eventNames))
	for si, st := range Machine.States {
		for ei, ev := range Machine.EventNames() {
			want, ok := wantConn[State(si)][Event(ei)]
			wantAnswer := machine.Refuse
			if ok {
				wantAnswer = machine.Move
			} else if a, quiet := wantConnNoMove[State(si)][Event(ei)]; quiet {
				wantAnswer = a
			}
			assert.Equal(t, Machine.Answer(st, ev), wantAnswer, "(%s, %s)", st, ev)
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
}

// newTestConn returns a connection over one end of a pipe.
func newTestConn(t testing.TB) (*Conn, net.Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	sh := &Shared{Index: subject.NewIndex[*Subscription](), Stats: &Stats{}}
	c := New(1, a, &Config{MaxControlLine: 4096, MaxPayload: 1 << 20, MaxPending: 1 << 20}, sh)
	return c, b
}

// TestFireRefusesWhatIsNotDeclared: the executor moves only along the
// declaration and runs each transition's callbacks once.
func TestFireRefusesWhatIsNotDeclared(t *testing.T) {
	c, _ := newTestConn(t)
	assert.Equal(t, c.State(), Open)
	assert.Assert(t, !c.fire(EventDone), "done from open must be refused")
	c.recordReason(ServerShutdown)
	assert.Assert(t, c.fire(EventClose))
	assert.Equal(t, c.State(), Closing)
	assert.Assert(t, !c.fire(EventClose), "close from closing must be refused")
	assert.Assert(t, c.fire(EventDone))
	assert.Equal(t, c.State(), Closed)
	assert.Assert(t, !c.fire(EventClose))
	assert.Assert(t, !c.fire(EventDone))
	h := c.History()
	assert.Equal(t, len(h), 2)
	assert.Equal(t, h[0].From+"->"+h[0].To+" "+h[0].Event+" "+h[0].Cause, "open->closing close Server Shutdown")
	assert.Equal(t, h[1].From+"->"+h[1].To+" "+h[1].Event, "closing->closed done")
}

// BenchmarkConnMachineCompiled is the cost of a connection's full life on
// the compiled table (open → closing → closed), callbacks included.
func BenchmarkConnMachineCompiled(b *testing.B) {
	sh := &Shared{Index: subject.NewIndex[*Subscription](), Stats: &Stats{}}
	b.ReportAllocs()
	for b.Loop() {
		c := &Conn{sh: sh, nc: nopConn{}}
		c.recordReason(ClientClosed)
		c.fire(EventClose)
		c.fire(EventDone)
	}
}

// BenchmarkConnMachineLooplab is the same life on a looplab/fsm instance
// per connection, for comparison: what the compiled table saves.
func BenchmarkConnMachineLooplab(b *testing.B) {
	noop := func(context.Context, *fsm.Event) {}
	b.ReportAllocs()
	for b.Loop() {
		f := fsm.NewFSM(Machine.Initial, Machine.Events, fsm.Callbacks{
			"leave_open": noop, "enter_closing": noop, "enter_closed": noop,
		})
		f.Event(context.Background(), EventClose.String())
		f.Event(context.Background(), EventDone.String())
	}
}

// BenchmarkConnMachineOnly isolates the state machine part of a
// connection's life: the transitions without the connection's own work.
func BenchmarkConnMachineOnly(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var c Conn
		for _, ev := range []Event{EventClose, EventDone} {
			cur := c.state.Load()
			c.state.Store(int32(table.Next(int(cur), int(ev))))
		}
	}
}

type nopConn struct{ net.Conn }

func (nopConn) Close() error { return nil }
