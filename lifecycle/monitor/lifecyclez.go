package monitor

import (
	"net/http"
	"time"

	"github.com/natsd/natsd/conn"
)

// Lifecyclez is the /lifecyclez answer (natsd's own endpoint): where the
// server is in its life, how it got there, and what happened to its
// connections.
type Lifecyclez struct {
	ID    string    `json:"server_id"`
	Now   time.Time `json:"now"`
	State string    `json:"state"`
	Since time.Time `json:"since"`
	Ready bool      `json:"ready"`
	// Transitions are the last recorded transitions, oldest first.
	Transitions []Transition `json:"transitions"`
	// Connections counts connections by connection state: open and
	// closing are the registered ones now, closed is every connection
	// closed since the server was created.
	Connections ConnStateCounts `json:"connections"`
	// ClosedReasons counts the closed connections by close reason, keyed
	// by the reason text /connz shows; reasons never seen are left out.
	ClosedReasons map[string]int64 `json:"closed_reasons"`
	// Routes is the route machines' part, present with a cluster.
	Routes *RouteLifecycle `json:"routes,omitempty"`
}

// ConnStateCounts counts connections per connection state.
type ConnStateCounts struct {
	Open    int   `json:"open"`
	Closing int   `json:"closing"`
	Closed  int64 `json:"closed"`
}

// Lifecyclez returns the current /lifecyclez data.
func (m *Monitor) Lifecyclez() *Lifecyclez {
	st := m.src.State()
	open, closing := m.src.ConnStates()
	lz := &Lifecyclez{
		ID:            m.src.Config().ServerID,
		Now:           m.now().UTC(),
		State:         st.Name,
		Since:         st.Since.UTC(),
		Ready:         st.Ready,
		Transitions:   []Transition{},
		Connections:   ConnStateCounts{Open: open, Closing: closing},
		ClosedReasons: map[string]int64{},
	}
	for _, t := range m.src.History() {
		t.At = t.At.UTC()
		lz.Transitions = append(lz.Transitions, t)
	}
	for r, n := range m.src.ClosedCounts() {
		if n == 0 {
			continue
		}
		lz.ClosedReasons[conn.ClosedState(r).String()] += n
		lz.Connections.Closed += n
	}
	lz.Routes = m.routeLifecycle()
	return lz
}

func (m *Monitor) handleLifecyclez(w http.ResponseWriter, _ *http.Request) {
	m.count(LifecyclezPath)
	writeJSON(w, http.StatusOK, m.Lifecyclez())
}
