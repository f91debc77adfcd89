package lifecycle

import (
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// TestServerRefusesWhatTheStateDoesNotAllow drives real servers into each
// reachable state and sends every request there: the outcome is a new state
// or an error naming the state and the event, as the table says.
func TestServerRequestsPerState(t *testing.T) {
	type call struct {
		name string
		do   func(*Server) error
	}
	start := call{"start", (*Server).Start}
	reload := call{"reload", func(s *Server) error { o := s.Options(); return s.Reload(&o, "test") }}
	ldm := call{"enter_lame_duck", (*Server).EnterLameDuck}
	cases := []struct {
		state     State
		call      call
		wantErr   string // "" = no error
		wantState State
	}{
		{Init, reload, "reload refused: the server is init", Init},
		{Init, ldm, "enter_lame_duck refused: the server is init", Init},
		{Listening, start, "start refused: the server is listening", Listening},
		{Listening, reload, "", Listening},
		{Listening, ldm, "", Stopped}, // no clients: the drain ends at once in shutdown
		{LameDuck, start, "start refused: the server is lame_duck", LameDuck},
		{LameDuck, reload, "reload refused: the server is lame_duck", LameDuck},
		{LameDuck, ldm, "", LameDuck}, // ignored
		{Stopped, start, "start refused: the server is stopped", Stopped},
		{Stopped, reload, "reload refused: the server is stopped", Stopped},
		{Stopped, ldm, "", Stopped}, // ignored
	}
	for _, tc := range cases {
		t.Run(tc.state.String()+"/"+tc.call.name, func(t *testing.T) {
			s := serverIn(t, tc.state)
			err := tc.call.do(s)
			if tc.wantErr == "" {
				assert.NilError(t, err)
			} else {
				assert.Error(t, err, tc.wantErr)
			}
			if tc.wantState == Stopped {
				s.WaitForShutdown()
			}
			assert.Equal(t, s.State(), tc.wantState)
			assert.NilError(t, s.Shutdown())
			assert.Equal(t, s.State(), Stopped)
		})
	}
}

// serverIn returns a server driven into state (a lame duck one keeps a
// client so its drain lasts).
func serverIn(t *testing.T, state State) *Server {
	t.Helper()
	o := &Options{Host: "127.0.0.1", Port: RandomPort, LameDuckDuration: time.Minute, LameDuckGracePeriod: 30 * time.Second}
	s, err := New(o, Deps{Log: quietLog(t)})
	assert.NilError(t, err)
	t.Cleanup(func() { s.Shutdown() })
	switch state {
	case Init:
	case Listening:
		assert.NilError(t, s.Start())
	case LameDuck:
		assert.NilError(t, s.Start())
		connect(t, s)
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if s.NumClients() == 1 {
				return poll.Success()
			}
			return poll.Continue("waiting for the client")
		}, poll.WithDelay(time.Millisecond))
		assert.NilError(t, s.EnterLameDuck())
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

func TestHistoryOfALameDuck(t *testing.T) {
	s := startServer(t, func(o *Options) {
		o.LameDuckDuration = 200 * time.Millisecond
		o.LameDuckGracePeriod = 50 * time.Millisecond
	})
	connect(t, s)
	waitFor(t, "client", func() bool { return s.NumClients() == 1 })
	assert.NilError(t, s.EnterLameDuckCause("test"))
	s.WaitForShutdown()
	assert.DeepEqual(t, historyLines(s), []string{
		"init -start-> listening (start)",
		"listening -enter_lame_duck-> lame_duck (test)",
		"lame_duck -shutdown-> shutting_down (lame duck drain complete)",
		"shutting_down -stopped-> stopped (shutdown complete)",
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
