package route

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/conn"
	"gotest.tools/v3/assert"
)

// gossipInfo is an async INFO about another server, as a nats-server
// forwards it.
func gossipInfo(id, addr string, mode byte) string {
	host, port, _ := net.SplitHostPort(addr)
	info := map[string]any{
		"server_id": id, "server_name": id, "version": "2.15.2", "proto": 3, "host": host,
		"port": atoi(port), "headers": true, "cluster": "c1", "ip": "nats-route://" + addr + "/",
		"route_pool_size": 3, "gossip_mode": mode,
	}
	b, _ := json.Marshal(info)
	return "INFO " + string(b) + "\r\n"
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// expectQuiet checks that nothing but PINGs reaches p before a PONG.
func (p *peer) expectQuiet() {
	p.t.Helper()
	p.send("PING\r\n")
	assert.Equal(p.t, p.lineSkippingPings(), "PONG")
}

// TestGossipForwardsNewRoutes: a new route's INFO goes to the other routes
// (so they dial it), with the gossip_mode rules: from an accepted route to
// an implicit one it is "disabled" (1); an INFO that disables gossip is
// not forwarded.
func TestGossipForwardsNewRoutes(t *testing.T) {
	tc := startCluster(t, nil)
	p1 := tc.register("NP1")
	tc.register("NP2", "127.0.0.1:5002")
	g := p1.info()
	assert.Equal(t, g.ID, "NP2")
	assert.Equal(t, g.GossipMode, gossipDisabled)
	assert.Equal(t, g.Nonce, "")
	assert.Assert(t, strings.HasPrefix(g.IP, "nats-route://127.0.0.1:") && strings.HasSuffix(g.IP, "/"), g.IP)
	assert.DeepEqual(t, g.ConnectURLs, []string{"127.0.0.1:5002"})

	p3, _ := tc.dialPeer()
	p3.send("%s%s", peerConnect("NP3", ""), strings.Replace(peerInfo("NP3", "NP3", 7000), `"server_id"`, `"gossip_mode":1,"server_id"`, 1))
	waitFor(t, "NP3", func() bool { return len(tc.Routes()) == 3 })
	p1.expectQuiet()
}

// TestImplicitRoute: gossip about an unknown server makes the cluster dial
// it: CONNECT then INFO carrying the gossip_mode it was told. A route from
// gossip is not gossiped further; gossip about a known server, or about
// this one, is ignored.
func TestImplicitRoute(t *testing.T) {
	tc := startCluster(t, nil)
	p1 := tc.register("NP1")
	ln, addr := listenPeer(t)
	p1.send("%s", gossipInfo(selfID, addr, 0))
	p1.send("%s", gossipInfo("NP1", addr, 0))
	p1.expectQuiet()
	p1.send("%s", gossipInfo("NP3", addr, gossipDisabled))
	p3 := acceptPeer(t, ln)
	var ci connectInfo
	l := p3.line()
	assert.Assert(t, strings.HasPrefix(l, "CONNECT {"), l)
	assert.NilError(t, json.Unmarshal([]byte(strings.TrimPrefix(l, "CONNECT ")), &ci))
	assert.DeepEqual(t, ci, connectInfo{Echo: true, Headers: true, Name: selfID, Cluster: "c1"})
	info := p3.info()
	assert.Equal(t, info.ID, selfID)
	assert.Equal(t, info.GossipMode, gossipDisabled)
	p3.send("%s", peerInfo("NP3", "NP3", 7003))
	waitFor(t, "NP3 registered", func() bool { return slices.Contains(tc.activeIDs(), "NP3") })
	for _, r := range tc.Routes() {
		if r.RemoteID == "NP3" {
			assert.Assert(t, r.DidSolicit && !r.IsConfigured)
		}
	}
	p1.expectQuiet()
	// The only dial was the one to NP3.
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := ln.Accept()
	assert.Assert(t, err != nil)
}

// TestExplicitRoute: the cluster dials a configured route with CONNECT and
// INFO; when it drops, it is dialled again after the reconnect delay.
func TestExplicitRoute(t *testing.T) {
	ln, addr := listenPeer(t)
	tc := startCluster(t, func(c *Config) {
		u, _ := ParseRouteURL("nats-route://ruser:rpass@" + addr)
		c.Routes = append(c.Routes, u)
	})
	p := acceptPeer(t, ln)
	l := p.line()
	assert.Equal(t, l, `CONNECT {"echo":true,"verbose":false,"pedantic":false,"user":"ruser","pass":"rpass","tls_required":false,"headers":true,"name":"`+selfID+`","cluster":"c1"}`)
	p.info()
	p.send("%s", peerInfo("NPX", "px", 7000))
	waitFor(t, "registration", func() bool { return len(tc.Routes()) == 1 })
	r := tc.Routes()[0]
	assert.Assert(t, r.DidSolicit && r.IsConfigured)

	p.nc.Close()
	start := time.Now()
	p = acceptPeer(t, ln)
	assert.Assert(t, time.Since(start) >= DefaultReconnectDelay, "reconnected after %v", time.Since(start))
	assert.Assert(t, strings.HasPrefix(p.line(), "CONNECT "))
}

// TestSolicitedClusterNameConflict: a dialled server of another cluster is
// closed as ClusterNameConflict, without an -ERR.
func TestSolicitedClusterNameConflict(t *testing.T) {
	ln, addr := listenPeer(t)
	tc := startCluster(t, func(c *Config) {
		u, _ := ParseRouteURL("nats-route://" + addr)
		c.Routes = append(c.Routes, u)
	})
	p := acceptPeer(t, ln)
	p.line()
	p.info()
	p.send("%s", strings.Replace(peerInfo("NPX", "px", 7000), `"cluster":"c1"`, `"cluster":"other"`, 1))
	assert.Equal(t, p.eof(), "")
	tc.closedFor(conn.ClusterNameConflict, 1)
	tc.waitLog(`cluster name "other" does not match "c1"`)
}

// TestDialRetries: an explicit route retries a refused dial after the
// connect delay, forever; an implicit one gives up after connect_retries.
func TestDialRetries(t *testing.T) {
	ln, addr := listenPeer(t)
	ln.Close()
	tc := startCluster(t, func(c *Config) {
		u, _ := ParseRouteURL("nats-route://" + addr)
		c.Routes = append(c.Routes, u)
		c.ConnectRetries = 1
	})
	p1 := tc.register("NP1")
	ln2, addr2 := listenPeer(t)
	ln2.Close()
	p1.send("%s", gossipInfo("NP3", addr2, 0))
	events := func(url string) []string {
		var out []string
		for _, tr := range tc.History() {
			if tr.URL == url {
				out = append(out, tr.Event)
			}
		}
		return out
	}
	explicit, implicit := "nats-route://"+addr, "nats-route://"+addr2+"/"
	waitFor(t, "the implicit route to give up", func() bool {
		return slices.Equal(events(implicit), []string{"dial_failed", "retry", "give_up"})
	})
	waitFor(t, "the explicit route to retry", func() bool {
		ev := events(explicit)
		return len(ev) >= 3 && slices.Equal(ev[:3], []string{"dial_failed", "retry", "dial_failed"})
	})
	tc.waitLog("Error trying to connect to route (attempt 2)")
}

// TestReloadRoutes: a reload dials an added route and closes a removed one
// with RouteRemoved, for good.
func TestReloadRoutes(t *testing.T) {
	tc := startCluster(t, nil)
	ln, addr := listenPeer(t)
	cfg := *tc.config()
	u, _ := ParseRouteURL("nats-route://" + addr)
	cfg.Routes = []*url.URL{u}
	tc.Reload(&cfg)
	p := acceptPeer(t, ln)
	p.line()
	p.info()
	p.send("%s", peerInfo("NPX", "px", 7000))
	waitFor(t, "registration", func() bool { return len(tc.Routes()) == 1 })
	cfg2 := cfg
	cfg2.Routes = nil
	tc.Reload(&cfg2)
	assert.Equal(t, p.eof(), "")
	tc.closedFor(conn.RouteRemoved, 1)
	waitFor(t, "no route left", func() bool { return len(tc.all()) == 0 })
	tc.waitLog("Removed route nats-route://" + addr)
}

// TestPeerLameDuck: a lame-duck INFO from a server takes its client URLs
// out at once; closing its route afterwards does not take them out a
// second time (another server may still advertise the same URL).
func TestPeerLameDuck(t *testing.T) {
	tc := startCluster(t, nil)
	p1 := tc.register("NP1", "127.0.0.1:5555", "127.0.0.1:5001")
	<-tc.changes
	tc.register("NP2", "127.0.0.1:5555")
	assert.DeepEqual(t, tc.RemoteClientURLs(), []string{"127.0.0.1:5001", "127.0.0.1:5555"})
	ldm := strings.Replace(peerInfo("NP1", "NP1", 7000, "127.0.0.1:5555", "127.0.0.1:5001"), `"server_id"`, `"ldm":true,"server_id"`, 1)
	p1.send("%s", ldm)
	<-tc.changes
	assert.DeepEqual(t, tc.RemoteClientURLs(), []string{"127.0.0.1:5555"})
	tc.waitLog("Remote server entered lame duck mode")
	p1.nc.Close()
	waitFor(t, "NP1 gone", func() bool { return slices.Equal(tc.activeIDs(), []string{"NP2"}) })
	assert.DeepEqual(t, tc.RemoteClientURLs(), []string{"127.0.0.1:5555"})
}

// TestEnterLameDuck: this server's lame duck sends each route its INFO
// with "ldm":true and its client URLs; the routes stay up.
func TestEnterLameDuck(t *testing.T) {
	tc := startCluster(t, nil)
	p := tc.register("NP1")
	tc.EnterLameDuck()
	info := p.info()
	assert.Equal(t, info.ID, selfID)
	assert.Assert(t, info.LameDuckMode)
	assert.DeepEqual(t, info.ConnectURLs, []string{"127.0.0.1:4222"})
	p.expectQuiet()
}

// TestShutdownClosesRoutes: shutdown cancels the diallers and closes the
// routes with ServerShutdown, after flushing them.
func TestShutdownClosesRoutes(t *testing.T) {
	ln, addr := listenPeer(t)
	ln.Close()
	tc := startCluster(t, func(c *Config) {
		u, _ := ParseRouteURL("nats-route://" + addr)
		c.Routes = append(c.Routes, u)
	})
	p := tc.register("NP1")
	tc.EnterLameDuck()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tc.Shutdown(ctx)
	// The lame-duck INFO was flushed before the close.
	assert.Assert(t, strings.Contains(p.eof(), `"ldm":true`))
	tc.closedFor(conn.ServerShutdown, 1)
	assert.Equal(t, len(tc.all()), 0)
	assert.Assert(t, slices.ContainsFunc(tc.History(), func(tr Transition) bool {
		return tr.Event == "cancel" && tr.Cause == "server shutdown"
	}))
}
