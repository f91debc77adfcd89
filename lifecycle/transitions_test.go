package lifecycle

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/natsd/natsd/internal/machine"
	"gotest.tools/v3/assert"
)

// TestServerRequestsPerState drives real servers into every state and
// makes every API request there. What each must do is read from the
// declaration ([Machine.Answer]): a request the state moves on succeeds
// and leads where the table below says; an ignored or idempotent one
// succeeds and changes nothing; a refused one fails naming the event and
// the state, and changes nothing. Fake clock, in-memory network: a lame
// duck or a shutdown is held as long as the test needs.
func TestServerRequestsPerState(t *testing.T) {
	calls := []struct {
		event string
		do    func(*Server) error
	}{
		{EventStart, (*Server).Start},
		{EventReload, func(s *Server) error { o := s.Options(); return s.Reload(&o, "test") }},
		{EventUpgrade, func(s *Server) error { _, err := s.Upgrade(); return err }},
		{EventEnterLameDuck, (*Server).EnterLameDuck},
		{EventShutdown, (*Server).Shutdown},
	}
	// Where a request that moves leaves the server once it has returned
	// (a lame duck without clients drains at once; Shutdown returns when
	// stopped; the new process of an upgrade never reports here).
	after := map[[2]string]State{
		{"init", EventStart}:              Listening,
		{"init", EventShutdown}:           Stopped,
		{"listening", EventReload}:        Listening,
		{"listening", EventUpgrade}:       Upgrading,
		{"listening", EventEnterLameDuck}: Stopped,
		{"listening", EventShutdown}:      Stopped,
		{"upgrading", EventEnterLameDuck}: Stopped,
		{"upgrading", EventShutdown}:      Stopped,
		{"lame_duck", EventShutdown}:      Stopped,
		{"shutting_down", EventShutdown}:  Stopped, // idempotent: waits for the first
		{"stopped", EventShutdown}:        Stopped,
	}
	for _, state := range []State{Init, Listening, Upgrading, LameDuck, ShuttingDown, Stopped} {
		for _, call := range calls {
			t.Run(state.String()+"/"+call.event, func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					s := serverIn(t, state)
					answer := Machine.Answer(state.String(), call.event)
					err := call.do(s)
					switch answer {
					case machine.Refuse:
						assert.Error(t, err, call.event+" refused: the server is "+state.String())
					default:
						assert.NilError(t, err, "answer %s", answer)
					}
					synctest.Wait()
					want, moved := after[[2]string{state.String(), call.event}]
					if !moved {
						assert.Assert(t, answer != machine.Move, "(%s, %s) moves: add it to the table", state, call.event)
						want = state
					}
					assert.Equal(t, s.State(), want, "answer %s", answer)
				})
			})
		}
	}
}

// serverIn returns a server on an in-memory network driven into state,
// inside a synctest bubble: an upgrading one waits for a new process that
// never reports; a lame duck one keeps a client so its drain lasts; a
// shutting down one keeps a client that does not read, so the shutdown
// waits for shutdown_timeout (released at the end of the test).
func serverIn(t *testing.T, state State) *Server {
	t.Helper()
	mn := newMemNet()
	o := &Options{Host: "127.0.0.1", Port: RandomPort, LameDuckDuration: time.Minute, LameDuckGracePeriod: 30 * time.Second}
	u := &upgrader{t: t}
	s, err := New(o, Deps{Log: quietLog(t), Listen: mn.Listen, Upgrade: u.upgrade})
	assert.NilError(t, err)
	t.Cleanup(func() { s.Shutdown() })
	switch state {
	case Init:
	case Listening:
		assert.NilError(t, s.Start())
	case Upgrading:
		assert.NilError(t, s.Start())
		_, err := s.Upgrade()
		assert.NilError(t, err)
	case LameDuck:
		assert.NilError(t, s.Start())
		connectMem(t, mn, s)
		synctest.Wait()
		assert.NilError(t, s.EnterLameDuck())
	case ShuttingDown:
		assert.NilError(t, s.Start())
		stuck := dialMemRaw(t, mn, s)
		stuck.send("CONNECT {\"verbose\":false}\r\nSUB x 1\r\nPING\r\n")
		assert.Equal(t, stuck.line(), "PONG")
		pub := dialMemRaw(t, mn, s)
		pub.send("CONNECT {\"verbose\":false}\r\n")
		pub.publishN("x", 1, 100)
		go s.ShutdownCause("test")
		synctest.Wait()
	case Stopped:
		assert.NilError(t, s.Start())
		assert.NilError(t, s.Shutdown())
	default:
		t.Fatalf("cannot drive a server into %s", state)
	}
	assert.Equal(t, s.State(), state)
	return s
}

func TestShutdownIsIdempotent(t *testing.T) {
	s := startServer(t, nil)
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- s.Shutdown() }()
	}
	for range 3 {
		assert.NilError(t, <-errs)
	}
	assert.Equal(t, s.State(), Stopped)
	var shutdowns int
	for _, tr := range s.History() {
		if tr.Event == EventShutdown {
			shutdowns++
		}
	}
	assert.Equal(t, shutdowns, 1)
}

func TestShutdownBeforeStart(t *testing.T) {
	s, err := New(&Options{Host: "127.0.0.1", Port: RandomPort}, Deps{Log: quietLog(t)})
	assert.NilError(t, err)
	assert.NilError(t, s.Shutdown())
	assert.Equal(t, s.State(), Stopped)
}

func TestHistoryOfAShutdown(t *testing.T) {
	s := startServer(t, nil)
	assert.NilError(t, s.ShutdownCause("test"))
	var got []string
	for _, tr := range s.History() {
		got = append(got, tr.From+" -"+tr.Event+"-> "+tr.To+" ("+tr.Cause+")")
	}
	assert.DeepEqual(t, got, []string{
		"init -start-> listening (start)",
		"listening -shutdown-> shutting_down (test)",
		"shutting_down -stopped-> stopped (shutdown complete)",
	})
}

// historyLines renders the history as "from -event-> to (cause)".
func historyLines(s *Server) []string {
	var got []string
	for _, tr := range s.History() {
		got = append(got, tr.From+" -"+tr.Event+"-> "+tr.To+" ("+tr.Cause+")")
	}
	return got
}

// TestHistoryOfALameDuck (fake clock, in-memory network).
func TestHistoryOfALameDuck(t *testing.T) {
	bubble(t, func(t *testing.T) {
		mn := newMemNet()
		s := startMemServer(t, mn, Deps{}, func(o *Options) {
			o.LameDuckDuration = 200 * time.Millisecond
			o.LameDuckGracePeriod = 50 * time.Millisecond
		})
		connectMem(t, mn, s)
		synctest.Wait()
		assert.NilError(t, s.EnterLameDuckCause("test"))
		s.WaitForShutdown()
		assert.DeepEqual(t, historyLines(s), []string{
			"init -start-> listening (start)",
			"listening -enter_lame_duck-> lame_duck (test)",
			"lame_duck -shutdown-> shutting_down (lame duck drain complete)",
			"shutting_down -stopped-> stopped (shutdown complete)",
		})
	})
}

func TestHistoryOfAReload(t *testing.T) {
	s := startServer(t, nil)
	o := s.Options()
	o.MaxPayload = 4096
	assert.NilError(t, s.Reload(&o, "test reload"))
	o.Port = 1 // cannot change live: refused, not recorded
	assert.ErrorContains(t, s.Reload(&o, "refused reload"), "cannot change port")
	assert.NilError(t, s.ShutdownCause("test"))
	assert.DeepEqual(t, historyLines(s), []string{
		"init -start-> listening (start)",
		"listening -reload-> listening (test reload)",
		"listening -shutdown-> shutting_down (test)",
		"shutting_down -stopped-> stopped (shutdown complete)",
	})
	assert.Equal(t, s.Options().MaxPayload, 4096)
}
