package monitor

import "net/http"

// HealthStatus is the /healthz answer, with nats-server's field names.
type HealthStatus struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Healthz returns the readiness answer and its HTTP status: 200
// {"status":"ok"} while the server is ready, 503 naming the state
// otherwise (lame duck, shutting down).
func (m *Monitor) Healthz() (int, HealthStatus) {
	st := m.src.State()
	if st.Ready {
		return http.StatusOK, HealthStatus{Status: "ok"}
	}
	return http.StatusServiceUnavailable, HealthStatus{Status: "unavailable", Error: "server is " + st.Name}
}

func (m *Monitor) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	m.count(HealthzPath)
	code, hs := m.Healthz()
	writeJSON(w, code, hs)
}
