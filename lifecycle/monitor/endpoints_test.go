package monitor

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/assert/cmp"
)

func TestHealthz(t *testing.T) {
	cases := []struct {
		state    State
		wantCode int
		want     HealthStatus
	}{
		{State{Name: "listening", Ready: true}, http.StatusOK, HealthStatus{Status: "ok"}},
		{State{Name: "lame_duck"}, http.StatusServiceUnavailable, HealthStatus{Status: "unavailable", Error: "server is lame_duck"}},
		{State{Name: "shutting_down"}, http.StatusServiceUnavailable, HealthStatus{Status: "unavailable", Error: "server is shutting_down"}},
	}
	for _, tc := range cases {
		t.Run(tc.state.Name, func(t *testing.T) {
			f := newFake()
			f.state = tc.state
			var got HealthStatus
			getJSON(t, newMonitor(f), "/healthz", tc.wantCode, &got)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestHealthzExactBody(t *testing.T) {
	f := newFake()
	m := newMonitor(f)
	code, body := get(t, m, "/healthz")
	assert.Equal(t, code, http.StatusOK)
	assert.Equal(t, string(body), "{\n  \"status\": \"ok\"\n}")
}

func TestVarz(t *testing.T) {
	f := newFake()
	f.stats.InMsgs.Store(10)
	f.stats.InBytes.Store(100)
	f.stats.OutMsgs.Store(20)
	f.stats.OutBytes.Store(200)
	f.stats.SlowConsumers.Store(2)
	f.stats.StaleConnections.Store(3)
	f.total, f.subs = 7, 4
	f.open = []conn.Snapshot{snap(1), snap(2)}
	m := newMonitor(f)
	get(t, m, "/healthz")
	var v Varz
	getJSON(t, m, "/varz", http.StatusOK, &v)
	assert.Equal(t, v.ID, "NSERVERID")
	assert.Equal(t, v.Name, "natsd-test")
	assert.Equal(t, v.Port, 4222)
	assert.Equal(t, v.HTTPPort, 8222)
	assert.Equal(t, v.Start, t0.Add(-time.Hour))
	assert.Equal(t, v.Now, t0)
	assert.Equal(t, v.Uptime, "1h0m0s")
	assert.Equal(t, v.PingInterval, 2*time.Minute)
	assert.Equal(t, v.Connections, 2)
	assert.Equal(t, v.TotalConnections, uint64(7))
	assert.Equal(t, v.Subscriptions, uint32(4))
	assert.Equal(t, v.InMsgs, int64(10))
	assert.Equal(t, v.InClientBytes, int64(100))
	assert.Equal(t, v.OutMsgs, int64(20))
	assert.Equal(t, v.OutClientBytes, int64(200))
	assert.Equal(t, v.SlowConsumers, int64(2))
	assert.Equal(t, v.StaleConnections, int64(3))
	assert.Equal(t, v.SystemAccount, "$SYS")
	assert.Equal(t, v.State, "listening")
	assert.Equal(t, v.HTTPReqStats["/healthz"], uint64(1))
	assert.Equal(t, v.HTTPReqStats["/varz"], uint64(1))

	// No system account: the field is left out, as in nats-server.
	f.cfg.SystemAccount = ""
	code, body := get(t, m, "/varz")
	assert.Equal(t, code, http.StatusOK)
	assert.Assert(t, !strings.Contains(string(body), "system_account"))
}

func TestLifecyclez(t *testing.T) {
	f := newFake()
	f.state = State{Name: "lame_duck", Since: t0.Add(-time.Second)}
	f.history = []Transition{
		{From: "init", To: "listening", Event: "start", Cause: "start", At: t0.Add(-time.Hour)},
		{From: "listening", To: "lame_duck", Event: "enter_lame_duck", Cause: "signal SIGUSR2", At: t0.Add(-time.Second)},
	}
	closing := snap(2)
	closing.State = conn.Closing
	f.open = []conn.Snapshot{snap(1), closing, snap(3)}
	f.counts = make([]int64, conn.NumClosedStates+1)
	f.counts[conn.ClientClosed] = 4
	f.counts[conn.ServerShutdown] = 2
	f.counts[0] = 1 // out of range
	var got Lifecyclez
	getJSON(t, newMonitor(f), "/lifecyclez", http.StatusOK, &got)
	assert.DeepEqual(t, got, Lifecyclez{
		ID:            "NSERVERID",
		Now:           t0,
		State:         "lame_duck",
		Since:         t0.Add(-time.Second),
		Transitions:   f.history,
		Connections:   ConnStateCounts{Open: 2, Closing: 1, Closed: 7},
		ClosedReasons: map[string]int64{"Client Closed": 4, "Server Shutdown": 2, "Unknown State": 1},
	})
}

func TestRootAndUnknownPaths(t *testing.T) {
	m := newMonitor(newFake())
	code, body := get(t, m, "/")
	assert.Equal(t, code, http.StatusOK)
	for _, p := range []string{VarzPath, ConnzPath, RoutezPath, GatewayzPath, LeafzPath, AccountzPath, JszPath, HealthzPath, LifecyclezPath} {
		assert.Check(t, cmp.Contains(string(body), `href=".`+p+`"`))
	}
	var e errorBody
	getJSON(t, m, "/nope", http.StatusNotFound, &e)
	assert.Equal(t, e.Error, "no such endpoint: /nope")
}

func TestProfileHandler(t *testing.T) {
	h := NewProfileHandler()
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/goroutine?debug=1"} {
		rec := httptestGet(h, p)
		assert.Equal(t, rec.Code, http.StatusOK, p)
	}
	assert.Equal(t, httptestGet(h, "/varz").Code, http.StatusNotFound)
}
