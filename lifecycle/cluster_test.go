package lifecycle

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
)

// Cluster membership with real nats-server v2.15.2 nodes and natsd
// servers: the full mesh by gossip, connect_urls, lame duck both ways,
// a killed node, duplicates, cluster names, reload.

// discovered waits until nc's discovered servers are exactly want.
func discovered(t *testing.T, nc *nats.Conn, want ...string) {
	t.Helper()
	slices.Sort(want)
	waitFor(t, "discovered servers "+strings.Join(want, ","), func() bool {
		got := nc.DiscoveredServers()
		slices.Sort(got)
		return slices.Equal(got, want)
	})
}

// connectTo returns a nats.go connection to url, closed at the end of the
// test.
func connectTo(t *testing.T, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	opts = append([]nats.Option{nats.NoReconnect(), nats.Timeout(5 * time.Second)}, opts...)
	nc, err := nats.Connect(url, opts...)
	assert.NilError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// TestClusterNatsdWithTwoNatsServers: natsd seeded with A only joins a
// cluster where B is seeded with A too; gossip completes the mesh (every
// node's /routez lists the two others), natsd's routes are unpooled and
// uncompressed, and every node's clients learn the other nodes' URLs.
func TestClusterNatsdWithTwoNatsServers(t *testing.T) {
	a := startNatsServer(t, "A", 0, nil, "")
	n := startClusterNatsd(t, "N", []string{a.routeURL()}, nil)
	b := startNatsServer(t, "B", 0, []string{a.routeURL()}, "")
	waitMesh(t, a, b, n)

	rz := n.routez(t)
	assert.Equal(t, rz.Name, "N")
	assert.Equal(t, rz.NumRoutes, 2)
	for _, r := range rz.Routes {
		assert.Equal(t, r.Compression, "off")
		// N dialled A (configured) and B (learnt from A's gossip).
		assert.Assert(t, r.DidSolicit, "%s", r.RemoteName)
		assert.Equal(t, r.IsConfigured, r.RemoteName == "A")
	}
	for _, r := range a.routez(t).Routes {
		if r.RemoteName == "N" {
			assert.Equal(t, r.Compression, "off")
		}
	}

	cn := connectTo(t, n.clientURL())
	discovered(t, cn, a.clientURL(), b.clientURL())
	ca := connectTo(t, a.clientURL())
	discovered(t, ca, b.clientURL(), n.clientURL())

	// Interest from nats-server clients reaches natsd's route records.
	sub, err := ca.SubscribeSync("orders.>")
	assert.NilError(t, err)
	flush(t, ca)
	waitFor(t, "A's interest on N", func() bool {
		for _, r := range n.Cluster().Routes() {
			if r.RemoteName == "A" && slices.Contains(r.Subs, "orders.>") {
				return true
			}
		}
		return false
	})
	assert.NilError(t, sub.Unsubscribe())
	assert.Equal(t, n.logs.count("level=error"), 0, "natsd logged errors")
}

// TestClusterThreeNatsd: n2 and n3 are seeded with n1 only; n1's gossip
// links them, and each node's clients learn the two others.
func TestClusterThreeNatsd(t *testing.T) {
	n1 := startClusterNatsd(t, "n1", nil, nil)
	n2 := startClusterNatsd(t, "n2", []string{n1.routeURL()}, nil)
	n3 := startClusterNatsd(t, "n3", []string{n1.routeURL()}, nil)
	waitMesh(t, n1, n2, n3)
	for _, n := range []*clusterNatsd{n1, n2, n3} {
		assert.Equal(t, n.routez(t).NumRoutes, 2, n.name)
	}
	c1 := connectTo(t, n1.clientURL())
	discovered(t, c1, n2.clientURL(), n3.clientURL())
	c3 := connectTo(t, n3.clientURL())
	discovered(t, c3, n1.clientURL(), n2.clientURL())

	// /lifecyclez shows the route machines.
	resp, err := http.Get(n1.Ports().Monitoring[0] + "/lifecyclez")
	assert.NilError(t, err)
	defer resp.Body.Close()
	type transition struct {
		RID   uint64 `json:"rid"`
		From  string `json:"from"`
		To    string `json:"to"`
		Event string `json:"event"`
	}
	var lz struct {
		Routes struct {
			States      map[string]int64 `json:"states"`
			Transitions []transition     `json:"transitions"`
		} `json:"routes"`
	}
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&lz))
	assert.Equal(t, lz.Routes.States["active"], int64(2))
	assert.Assert(t, slices.ContainsFunc(lz.Routes.Transitions, func(tr transition) bool {
		return tr.RID > 0 && tr.Event == "registered" && tr.From == "handshaking" && tr.To == "active"
	}))
}

// TestClusterSeededBothWays: natsd and a nats-server each list the other
// as a route. They end with one route each way between them, and natsd
// logs the one -ERR a default nats-server sends about its dedicated $SYS
// route (natsd has no pool).
func TestClusterSeededBothWays(t *testing.T) {
	aPort := freePort(t)
	n := startClusterNatsd(t, "N", []string{"nats-route://127.0.0.1:" + itoa(aPort)}, nil)
	a := startNatsServer(t, "A", aPort, []string{n.routeURL()}, "")
	waitMesh(t, a, n)
	waitFor(t, "one route each", func() bool {
		return len(n.Cluster().Routes()) == 1 && a.routez(t).NumRoutes == 1
	})
	waitFor(t, "the $SYS route refusal", func() bool {
		return n.logs.count(`Route Error 'Not possible to have a dedicated route for account "$SYS" between those servers'`) >= 1
	})
	// Whichever connection survived, natsd's route is the configured one
	// once natsd's own dial met it as a duplicate.
	waitFor(t, "the surviving route to be the configured one", func() bool {
		rs := n.Cluster().Routes()
		return len(rs) == 1 && rs[0].IsConfigured && rs[0].DidSolicit
	})
}

// TestClusterNameMismatch: natsd of cluster other and a nats-server of
// cluster c1 refuse each other: nats-server answers natsd's CONNECT with
// its -ERR, natsd closes on nats-server's INFO (ClusterNameConflict), and
// natsd keeps trying its explicit route.
func TestClusterNameMismatch(t *testing.T) {
	a := startNatsServer(t, "A", 0, nil, "")
	n := startClusterNatsd(t, "N", []string{a.routeURL()}, func(o *Options) { o.Cluster.Name = "other" })
	waitFor(t, "two refusals", func() bool { return n.Cluster().ClosedCounts()[conn.ClusterNameConflict] >= 2 })
	waitFor(t, "nats-server's rejection", func() bool {
		return a.out.count(`Rejecting connection, cluster name "other" does not match "c1"`) >= 1
	})
	assert.Equal(t, a.routez(t).NumRoutes, 0)
	assert.Equal(t, len(n.Cluster().Routes()), 0)
	assert.Assert(t, n.logs.count(`cluster name "c1" does not match "other"`) >= 2)
}

// TestClusterNatsServerKilled: a nats-server node killed with SIGKILL and
// started again on the same ports: natsd's route to it closes, natsd
// redials it until it is back, the interest comes back both ways (natsd's
// subscriber, which stayed, is announced again on the new route) and
// traffic resumes in both directions; natsd logs the route's transitions.
func TestClusterNatsServerKilled(t *testing.T) {
	a := startNatsServer(t, "A", 0, nil, "")
	n := startClusterNatsd(t, "N", []string{a.routeURL()}, nil)
	waitMesh(t, a, n)
	cn := connectTo(t, n.clientURL())
	onN, err := cn.SubscribeSync("to.n")
	assert.NilError(t, err)
	flush(t, cn)
	ca := connectTo(t, a.clientURL(), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	waitInterest(t, a, "N", "to.n", true)
	assert.NilError(t, ca.Publish("to.n", []byte("before")))
	flush(t, ca)
	assert.Equal(t, string(next(t, onN).Data), "before")

	a.kill()
	waitFor(t, "the route to close", func() bool { return len(n.Cluster().Routes()) == 0 })
	waitFor(t, "a failed redial", func() bool { return n.logs.count("event dial_failed") >= 1 })

	// Restart A on the same ports.
	conf, err := readFileString(a.conf)
	assert.NilError(t, err)
	conf = strings.Replace(conf, "port: -1", "port: "+itoa(a.clientPort), 1)
	conf = strings.Replace(conf, "127.0.0.1:-1\"\nports", "127.0.0.1:"+itoa(a.httpPort)+"\"\nports", 1)
	conf = strings.Replace(conf, `listen: "127.0.0.1:-1"`, `listen: "127.0.0.1:`+itoa(a.clusterPort)+`"`, 1)
	assert.NilError(t, writeFileString(a.conf, conf))
	a.start()
	ca = connectTo(t, a.clientURL())
	onA, err := ca.SubscribeSync("after.restart")
	assert.NilError(t, err)
	flush(t, ca)
	waitMesh(t, a, n)
	waitInterest(t, n, "A", "after.restart", true)
	waitInterest(t, a, "N", "to.n", true)
	assert.NilError(t, cn.Publish("after.restart", []byte("n to a")))
	flush(t, cn)
	assert.Equal(t, string(next(t, onA).Data), "n to a")
	assert.NilError(t, ca.Publish("to.n", []byte("a to n")))
	flush(t, ca)
	assert.Equal(t, string(next(t, onN).Data), "a to n")
	// natsd logged the route's transitions: lost, redialled, back.
	for _, s := range []string{"Route state active -> closing", "event dial_failed", "Route state retrying -> connecting (event retry)"} {
		assert.Assert(t, n.logs.count(s) >= 1, "natsd did not log %q", s)
	}
	assert.Assert(t, n.logs.count("Route state handshaking -> active") >= 2)
}

// TestClusterLameDuckOnNatsd: natsd enters lame duck with a nats-server
// peer. natsd's clients get INFO "ldm":true listing the peer only and then
// reconnect to it; the peer's clients stop being offered natsd.
func TestClusterLameDuckOnNatsd(t *testing.T) {
	a := startNatsServer(t, "A", 0, nil, "")
	n := startClusterNatsd(t, "N", []string{a.routeURL()}, func(o *Options) {
		o.LameDuckDuration, o.LameDuckGracePeriod = 500*time.Millisecond, 0
	})
	waitMesh(t, a, n)
	ca := connectTo(t, a.clientURL())
	discovered(t, ca, n.clientURL())
	ldm := make(chan struct{}, 1)
	reconnected := make(chan struct{}, 1)
	allowReconnect := func(o *nats.Options) error { o.AllowReconnect = true; return nil }
	cn := connectTo(t, n.clientURL(), allowReconnect, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond),
		nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	discovered(t, cn, a.clientURL())
	raw := dialRaw(t, n.Server)
	raw.send("CONNECT {\"protocol\":1,\"verbose\":false}\r\nPING\r\n")
	assert.Equal(t, raw.line(), "PONG")

	assert.NilError(t, n.EnterLameDuck())
	var info conn.Info
	l := raw.line()
	assert.Assert(t, strings.HasPrefix(l, "INFO "), l)
	assert.NilError(t, json.Unmarshal([]byte(strings.TrimPrefix(l, "INFO ")), &info))
	assert.Assert(t, info.LameDuckMode)
	assert.DeepEqual(t, info.ConnectURLs, []string{hostPort(a.clientURL())})
	<-ldm
	discovered(t, ca) // A dropped natsd's URL on its lame-duck INFO
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatalf("no reconnect: status %v, servers %v, discovered %v, last error %v", cn.Status(), cn.Servers(), cn.DiscoveredServers(), cn.LastError())
	}
	assert.Equal(t, cn.ConnectedUrl(), a.clientURL())
	n.WaitForShutdown()
}

// TestClusterLameDuckOnNatsServer: a nats-server peer enters lame duck
// (SIGUSR2): natsd drops its URLs at once and tells its clients.
func TestClusterLameDuckOnNatsServer(t *testing.T) {
	a := startNatsServer(t, "A", 0, nil, "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"25s\"\n")
	n := startClusterNatsd(t, "N", []string{a.routeURL()}, nil)
	waitMesh(t, a, n)
	connectTo(t, a.clientURL()) // a nats-server with no clients skips the lame-duck INFO
	cn := connectTo(t, n.clientURL())
	discovered(t, cn, a.clientURL())
	raw := dialRaw(t, n.Server)
	raw.send("CONNECT {\"protocol\":1,\"verbose\":false}\r\nPING\r\n")
	assert.Equal(t, raw.line(), "PONG")

	a.signal(syscall.SIGUSR2)
	l := raw.line()
	var info conn.Info
	assert.NilError(t, json.Unmarshal([]byte(strings.TrimPrefix(l, "INFO ")), &info))
	assert.DeepEqual(t, info.ConnectURLs, []string{hostPort(n.clientURL())})
	assert.Assert(t, !info.LameDuckMode)
	discovered(t, cn)
	assert.DeepEqual(t, n.Cluster().RemoteClientURLs(), []string{})
	waitFor(t, "natsd to log it", func() bool { return n.logs.count("Remote server entered lame duck mode") == 1 })
}

// TestClusterReloadRoutes: a reload adding a route dials it; one removing
// it closes the route with RouteRemoved and does not dial it again. (A
// nats-server whose unpooled route dropped dials it once itself, as it does
// with any old-style server: that route is the peer's, accepted by natsd.)
func TestClusterReloadRoutes(t *testing.T) {
	a := startNatsServer(t, "A", 0, nil, "")
	n := startClusterNatsd(t, "N", nil, nil)
	o := n.Options()
	o.Cluster.Routes = []string{a.routeURL()}
	assert.NilError(t, n.Reload(&o, "test"))
	waitMesh(t, a, n)
	assert.Assert(t, n.Cluster().Routes()[0].IsConfigured)
	o.Cluster.Routes = nil
	assert.NilError(t, n.Reload(&o, "test"))
	waitFor(t, "the route to go", func() bool { return n.Cluster().ClosedCounts()[conn.RouteRemoved] == 1 })
	assert.Assert(t, n.logs.count("Removed route "+a.routeURL()) == 1)
	waitMesh(t, a, n) // A dialled natsd back
	for _, r := range n.Cluster().Routes() {
		assert.Assert(t, !r.DidSolicit && !r.IsConfigured, "natsd dialled the removed route again")
	}

	// The rest of the cluster block cannot change live.
	o.Cluster.Name = "c2"
	err := n.Reload(&o, "test")
	assert.ErrorContains(t, err, "cannot change cluster")
}

// TestClusterShutdownClosesRoutesAfterClients: shutdown closes the routes
// only once every client is closed, so what the clients published last
// still leaves: every message of a burst n1 had accepted when the
// shutdown began reaches a subscriber on n2. The other server sees the
// route close (ServerShutdown on this side) and redials its configured
// route.
func TestClusterShutdownClosesRoutesAfterClients(t *testing.T) {
	const burst, size = 20000, 512
	n1 := startClusterNatsd(t, "n1", nil, nil)
	n2 := startClusterNatsd(t, "n2", []string{n1.routeURL()}, nil)
	waitMesh(t, n1, n2)
	c2 := connectTo(t, n2.clientURL())
	sub, err := c2.SubscribeSync("last.words")
	assert.NilError(t, err)
	assert.NilError(t, sub.SetPendingLimits(-1, -1))
	flush(t, c2)
	pub := connectTo(t, n1.clientURL(), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	connectTo(t, n1.clientURL())
	waitInterest(t, n1, "n2", "last.words", true)
	payload := make([]byte, size)
	for range burst {
		assert.NilError(t, pub.Publish("last.words", payload))
	}
	flush(t, pub) // n1 has accepted (and queued to the route) all of it
	assert.NilError(t, n1.Shutdown())
	for i := range burst {
		_, err := sub.NextMsg(5 * time.Second)
		assert.NilError(t, err, "message %d of the %d n1 accepted before its shutdown", i, burst)
	}
	var lastClient time.Time
	for _, c := range n1.Closed() {
		if c.Stop.After(lastClient) {
			lastClient = c.Stop
		}
	}
	assert.Equal(t, len(n1.Closed()), 2)
	var routeClosing time.Time
	for _, tr := range n1.Cluster().History() {
		if tr.From == "active" && tr.To == "closing" {
			routeClosing = tr.At
			assert.Equal(t, tr.Cause, conn.ServerShutdown.String())
		}
	}
	assert.Assert(t, !routeClosing.IsZero())
	assert.Assert(t, !routeClosing.Before(lastClient), "route closed at %v, before the last client at %v", routeClosing, lastClient)
	waitFor(t, "n2 to lose the route", func() bool { return len(n2.Cluster().Routes()) == 0 })
	waitFor(t, "n2 to redial", func() bool { return n2.logs.count("event dial_failed") >= 1 })
}
