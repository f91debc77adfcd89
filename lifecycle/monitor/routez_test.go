package monitor

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/internal/machine"
	"github.com/natsd/natsd/route"
	"gotest.tools/v3/assert"
)

// fakeCluster is a source with routes.
type fakeCluster struct {
	*fakeSource
	routes  []route.Snapshot
	states  []int64
	closed  []int64
	history []route.Transition
}

func (f *fakeCluster) ClusterEnabled() bool                      { return true }
func (f *fakeCluster) Routes() []route.Snapshot                  { return f.routes }
func (f *fakeCluster) RouteStates() []int64                      { return f.states }
func (f *fakeCluster) RouteClosedCounts() []int64                { return f.closed }
func (f *fakeCluster) RouteHistory() []route.Transition          { return f.history }
func (f *fakeCluster) RouteCounts() (int64, int64, int64, int64) { return 5, 50, 7, 70 }
func (f *fakeCluster) ClusterVarz() ClusterVarz {
	return ClusterVarz{Name: "c1", Host: "0.0.0.0", Port: 6222, AuthTimeout: 2, URLs: []string{"127.0.0.1:6223"}, PoolSize: -1}
}

func newFakeCluster() *fakeCluster {
	f := &fakeCluster{fakeSource: newFake()}
	f.routes = []route.Snapshot{{
		RID: 3, RemoteID: "NREMOTE", RemoteName: "A", DidSolicit: true, IsConfigured: true,
		IP: "127.0.0.1", Port: 6222, Start: t0.Add(-time.Minute), LastActivity: t0.Add(-time.Second),
		RTT: 1500 * time.Microsecond, Pending: 10, InMsgs: 1, OutMsgs: 2, InBytes: 3, OutBytes: 4,
		Subs: []string{"bar", "foo"}, Compression: "off", State: route.Active,
	}}
	f.states = []int64{0, 1, 0, 0, 1, 0, 4}
	f.closed = make([]int64, conn.NumClosedStates+1)
	f.closed[conn.DuplicateRoute] = 3
	f.closed[conn.RouteRemoved] = 1
	f.history = []route.Transition{{RID: 3, RemoteID: "NREMOTE", URL: "nats-route://127.0.0.1:6222",
		Transition: machine.Transition{From: "handshaking", To: "active", Event: "registered", At: t0}}}
	return f
}

// TestVarzCluster: /varz has the cluster section, and its client counters
// leave the routes' share out of the totals.
func TestVarzCluster(t *testing.T) {
	f := newFakeCluster()
	f.stats.InMsgs.Store(10)
	f.stats.InBytes.Store(100)
	f.stats.OutMsgs.Store(20)
	f.stats.OutBytes.Store(200)
	v := newMonitor(f).Varz()
	assert.DeepEqual(t, v.Cluster, ClusterVarz{Name: "c1", Host: "0.0.0.0", Port: 6222, AuthTimeout: 2, URLs: []string{"127.0.0.1:6223"}, PoolSize: -1})
	assert.Equal(t, v.InMsgs, int64(10))
	assert.Equal(t, v.InClientMsgs, int64(5))
	assert.Equal(t, v.InClientBytes, int64(50))
	assert.Equal(t, v.OutMsgs, int64(20))
	assert.Equal(t, v.OutClientMsgs, int64(13))
	assert.Equal(t, v.OutClientBytes, int64(130))
}

// TestRoutez: /routez has nats-server's names; ?subs=1 adds the list.
func TestRoutez(t *testing.T) {
	m := newMonitor(newFakeCluster())
	rz := m.Routez(false)
	assert.Equal(t, rz.NumRoutes, 1)
	// nats-server's Routez and RouteInfo names (server/monitor.go), minus
	// import/export permissions, account and subscriptions_list_detail,
	// which natsd does not have.
	assert.DeepEqual(t, keys(t, rz), []string{"now", "num_routes", "routes", "server_id", "server_name"})
	full := m.Routez(true)
	assert.DeepEqual(t, keys(t, full.Routes[0]), []string{
		"compression", "did_solicit", "idle", "in_bytes", "in_msgs", "ip", "is_configured", "last_activity",
		"out_bytes", "out_msgs", "pending_size", "port", "remote_id", "remote_name", "rid", "rtt",
		"start", "subscriptions", "subscriptions_list", "uptime"})
	r := full.Routes[0]
	assert.Equal(t, r.Uptime, "1m0s")
	assert.Equal(t, r.Idle, "1s")
	assert.Equal(t, r.RTT, "1.5ms")
	assert.Equal(t, r.NumSubs, uint32(2))
	assert.Assert(t, rz.Routes[0].Subs == nil)

	var body Routez
	getJSON(t, m, "/routez?subs=1", http.StatusOK, &body)
	assert.DeepEqual(t, body.Routes[0].Subs, []string{"bar", "foo"})
	code, _ := get(t, m, "/routez?subs=maybe")
	assert.Equal(t, code, http.StatusBadRequest)

	// Without routes, /routez answers an empty list; /varz counts routes.
	var empty Routez
	getJSON(t, newMonitor(newFake()), "/routez", http.StatusOK, &empty)
	assert.Equal(t, empty.NumRoutes, 0)
	assert.Assert(t, empty.Routes != nil)
	v := m.Varz()
	assert.Equal(t, v.Routes, 1)
	assert.Equal(t, v.Remotes, 1)
}

// TestLifecyclezRoutes: the route machines in /lifecyclez.
func TestLifecyclezRoutes(t *testing.T) {
	lz := newMonitor(newFakeCluster()).Lifecyclez()
	assert.Assert(t, lz.Routes != nil)
	assert.DeepEqual(t, lz.Routes.States, map[string]int64{
		"connecting": 0, "retrying": 1, "securing": 0, "handshaking": 0, "active": 1, "closing": 0, "closed": 4})
	assert.DeepEqual(t, lz.Routes.ClosedReasons, map[string]int64{"Duplicate Route": 3, "Route Removed": 1})
	assert.Equal(t, len(lz.Routes.Transitions), 1)
	assert.Assert(t, slices.Contains(keys(t, lz.Routes.Transitions[0]), "rid"))
	assert.Assert(t, newMonitor(newFake()).Lifecyclez().Routes == nil)
}
