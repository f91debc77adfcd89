package monitor

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
)

// t0 is the fake clock's "now".
var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// fakeSource is a [Source] made of plain data.
type fakeSource struct {
	cfg     Config
	state   State
	history []Transition
	stats   conn.Stats
	start   time.Time
	total   int64
	subs    int
	open    []conn.Snapshot
	closed  []conn.Snapshot
	counts  []int64
}

func (f *fakeSource) Config() Config          { return f.cfg }
func (f *fakeSource) State() State            { return f.state }
func (f *fakeSource) History() []Transition   { return f.history }
func (f *fakeSource) Stats() *conn.Stats      { return &f.stats }
func (f *fakeSource) StartTime() time.Time    { return f.start }
func (f *fakeSource) TotalConnections() int64 { return f.total }
func (f *fakeSource) NumSubscriptions() int   { return f.subs }
func (f *fakeSource) NumClients() int         { return len(f.open) }
func (f *fakeSource) Open() []conn.Snapshot   { return f.open }
func (f *fakeSource) Closed() []conn.Snapshot { return f.closed }
func (f *fakeSource) ClosedCounts() []int64   { return f.counts }

func (f *fakeSource) ConnStates() (open, closing int) {
	for _, s := range f.open {
		switch s.State {
		case conn.Open:
			open++
		case conn.Closing:
			closing++
		}
	}
	return open, closing
}

// newFake returns a listening source whose clock reads t0.
func newFake() *fakeSource {
	return &fakeSource{
		cfg: Config{
			ServerID: "NSERVERID", ServerName: "natsd-test", Version: "0.1.0", Proto: 1,
			Host: "127.0.0.1", Port: 4222, HTTPHost: "127.0.0.1", HTTPPort: 8222,
			MaxPayload: 1 << 20, MaxControlLine: 4096, MaxPending: 64 << 20,
			PingInterval: 2 * time.Minute, PingMax: 2, WriteDeadline: 10 * time.Second,
			LoadTime: t0.Add(-time.Hour), SystemAccount: "$SYS",
		},
		state: State{Name: "listening", Since: t0.Add(-time.Hour), Ready: true},
		start: t0.Add(-time.Hour),
	}
}

func newMonitor(src Source) *Monitor {
	m := New(src)
	m.now = func() time.Time { return t0 }
	return m
}

// get requests path from m and returns the status and the raw body.
func get(t *testing.T, m *Monitor, path string) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.Bytes()
}

// getJSON requests path, checks the status and decodes the body into v.
func getJSON(t *testing.T, m *Monitor, path string, wantCode int, v any) {
	t.Helper()
	code, body := get(t, m, path)
	assert.Equal(t, code, wantCode, "GET %s: %s", path, body)
	assert.NilError(t, json.Unmarshal(body, v), "GET %s: %s", path, body)
}

// httptestGet requests path from any handler.
func httptestGet(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}
