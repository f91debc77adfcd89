package route

import (
	"encoding/json"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/natsd/natsd/conn"
	"golang.org/x/crypto/bcrypt"
	"gotest.tools/v3/assert"
)

// TestAcceptedRouteInfo: the INFO on an accepted route is the unpooled,
// uncompressed one: no route_pool_size, compression off, no lnoc/ln, proto
// 2, this server's client URLs.
func TestAcceptedRouteInfo(t *testing.T) {
	tc := startCluster(t, nil)
	p, info := tc.dialPeer()
	assert.Equal(t, info.ID, selfID)
	assert.Equal(t, info.Name, "self")
	assert.Equal(t, info.Cluster, "c1")
	assert.Equal(t, info.Proto, 2)
	assert.Equal(t, info.Compression, "off")
	assert.Equal(t, info.Port, tc.port)
	assert.Assert(t, info.Headers)
	assert.DeepEqual(t, info.ConnectURLs, []string{"127.0.0.1:4222"})
	p.nc.Close()

	// The raw line, for the fields that must be absent.
	nc, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(tc.port))
	assert.NilError(t, err)
	p = newPeer(t, nc)
	line := p.line()
	assert.Assert(t, strings.HasPrefix(line, "INFO {") && strings.HasSuffix(line, "}"), line)
	raw := map[string]json.RawMessage{}
	assert.NilError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "INFO ")), &raw))
	for _, k := range []string{"route_pool_size", "lnoc", "lnocu", "ln", "nonce", "auth_required", "ip"} {
		_, ok := raw[k]
		assert.Check(t, !ok, "INFO has %s", k)
	}
}

// TestAcceptedRouteRefusals: what nats-server answers an accepted route
// that does not qualify, line for line, and the close reason.
func TestAcceptedRouteRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		auth   bool
		send   string
		err    string // the -ERR text, "" for none
		reason conn.ClosedState
	}{
		{name: "first op not CONNECT", send: "PING\r\n",
			err: "Authorization Violation", reason: conn.AuthenticationViolation},
		{name: "INFO before CONNECT", send: peerInfo("NP1", "p1", 7000),
			err: "Authorization Violation", reason: conn.AuthenticationViolation},
		{name: "cluster name mismatch", send: strings.Replace(peerConnect("NP1", ""), `"cluster":"c1"`, `"cluster":"c2"`, 1),
			err: `Rejecting connection, cluster name "c2" does not match "c1"`, reason: conn.ClusterNameConflict},
		{name: "client on the route port", send: `CONNECT {"verbose":false,"lang":"go","version":"1.55.0","protocol":1}` + "\r\n",
			err: "attempted to connect to route port", reason: conn.WrongPort},
		{name: "gateway on the route port", send: peerConnect("NP1", `,"gateway":"g1"`),
			err: `Rejecting connection from gateway "g1" on the Route port`, reason: conn.WrongGateway},
		{name: "reserved cluster name", send: strings.Replace(peerConnect("NP1", ""), `"cluster":"c1"`, `"cluster":"_"`, 1),
			err: `Rejecting connection, cluster name "_" is reserved`, reason: conn.ClusterNameConflict},
		{name: "bad CONNECT JSON", send: "CONNECT {nope\r\n", reason: conn.ProtocolViolation},
		{name: "unknown op", send: peerConnect("NP1", "") + "LS+ c1 $G foo\r\n",
			err: "Unknown Protocol Operation", reason: conn.ProtocolViolation},
		{name: "client PUB", send: peerConnect("NP1", "") + "PUB foo 2\r\nhi\r\n",
			err: "Unknown Protocol Operation", reason: conn.ProtocolViolation},
		{name: "bad RS+", send: peerConnect("NP1", "") + "RS+ $G\r\n", reason: conn.ProtocolViolation},
		{name: "wrong password", auth: true, send: peerConnect("NP1", `,"user":"ruser","pass":"nope"`),
			err: "Authorization Violation", reason: conn.AuthenticationViolation},
		{name: "no credentials", auth: true, send: peerConnect("NP1", ""),
			err: "Authorization Violation", reason: conn.AuthenticationViolation},
		{name: "a peer's -ERR", send: peerConnect("NP1", "") + "-ERR 'boom'\r\n", reason: conn.ParseError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := startCluster(t, func(c *Config) {
				if tc.auth {
					c.Username, c.Password = "ruser", "secret"
				}
			})
			p, info := cl.dialPeer()
			assert.Equal(t, info.AuthRequired, tc.auth)
			p.send("%s", tc.send)
			rest := p.eof()
			if tc.err != "" {
				assert.Equal(t, rest, "-ERR '"+tc.err+"'\r\n")
			} else {
				assert.Equal(t, rest, "")
			}
			cl.closedFor(tc.reason, 1)
		})
	}
}

// TestPeerErrorIsLogged: nats-server's "Route Error" line.
func TestPeerErrorIsLogged(t *testing.T) {
	tc := startCluster(t, nil)
	p := tc.register("NP1")
	p.send("-ERR 'Not possible to have a dedicated route for account \"$SYS\" between those servers'\r\n")
	p.eof()
	tc.closedFor(conn.ParseError, 1)
	tc.waitLog(`Route Error 'Not possible to have a dedicated route for account "$SYS" between those servers'`)
}

// TestAuthTimeout: with cluster authorization, an accepted route that sends
// no CONNECT in time is closed.
func TestAuthTimeout(t *testing.T) {
	tc := startCluster(t, func(c *Config) {
		c.Username, c.Password, c.AuthTimeout = "ruser", "secret", 100*time.Millisecond
	})
	p, _ := tc.dialPeer()
	assert.Equal(t, p.eof(), "-ERR 'Authentication Timeout'\r\n")
	tc.closedFor(conn.AuthenticationTimeout, 1)
}

// TestAuthOK: the right credentials register the route; a bcrypt hash of
// the password works too.
func TestAuthOK(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	assert.NilError(t, err)
	for _, pass := range []string{"secret", string(hash)} {
		tc := startCluster(t, func(c *Config) { c.Username, c.Password = "ruser", pass })
		p, _ := tc.dialPeer()
		p.send("%s%s", peerConnect("NP1", `,"user":"ruser","pass":"secret"`), peerInfo("NP1", "p1", 7000))
		waitFor(t, "registration", func() bool { return len(tc.Routes()) == 1 })
	}
}

// TestRegisteredRoute: an accepted route registers on its INFO, answers
// PING, PINGs by itself, records RS+/RS- and counts messages.
func TestRegisteredRoute(t *testing.T) {
	tc := startCluster(t, nil)
	p := tc.register("NP1", "127.0.0.1:5555")
	<-tc.changes
	assert.DeepEqual(t, tc.RemoteClientURLs(), []string{"127.0.0.1:5555"})
	r := tc.Routes()[0]
	assert.Equal(t, r.RemoteName, "NP1")
	assert.Assert(t, !r.DidSolicit && !r.IsConfigured)
	assert.Equal(t, r.Compression, "off")

	p.send("PING\r\n")
	assert.Equal(t, p.line(), "PONG")
	// The first route PING comes after 1 s (plus up to 20%).
	start := time.Now()
	assert.Equal(t, p.line(), "PING")
	assert.Assert(t, time.Since(start) < 2*time.Second)
	p.send("PONG\r\n")

	p.send("RS+ $G foo\r\nRS+ $G bar q 3\r\nRS+ $SYS $SYS.REQ.SERVER.PING\r\nRS+ $G bar q 5\r\n")
	p.send("RMSG $G foo 5\r\nhello\r\nHMSG $G foo + r.x q 12 14\r\nNATS/1.0\r\n\r\nhi\r\n")
	p.send("PING\r\n")
	assert.Equal(t, p.lineSkippingPings(), "PONG")
	r = tc.Routes()[0]
	assert.DeepEqual(t, r.Subs, []string{"$SYS.REQ.SERVER.PING", "bar", "foo"})
	assert.Equal(t, r.InMsgs, int64(2))
	assert.Equal(t, r.InBytes, int64(19))
	p.send("RS- $G foo\r\nRS- $G bar q\r\nPING\r\n")
	assert.Equal(t, p.lineSkippingPings(), "PONG")
	assert.DeepEqual(t, tc.Routes()[0].Subs, []string{"$SYS.REQ.SERVER.PING"})

	// An invalid subject is refused without closing the route.
	p.send("RS+ $G foo..bar\r\nPING\r\n")
	assert.Equal(t, p.lineSkippingPings(), "-ERR 'Invalid Subscription'")
	assert.Equal(t, p.lineSkippingPings(), "PONG")

	// The route going away removes its URLs.
	p.nc.Close()
	tc.closedFor(conn.ClientClosed, 1)
	<-tc.changes
	assert.Equal(t, len(tc.RemoteClientURLs()), 0)
	h := tc.History()
	var moves []string
	for _, tr := range h {
		moves = append(moves, tr.From+">"+tr.To)
	}
	assert.DeepEqual(t, moves, []string{"connecting>handshaking", "handshaking>active", "active>closing", "closing>closed"})
	assert.Equal(t, h[1].RemoteID, "NP1")
	assert.Equal(t, h[2].Cause, "Client Closed")
}

// TestDuplicateRoute: a second route from a registered server gets INFO,
// then is closed as DuplicateRoute; the first stays.
func TestDuplicateRoute(t *testing.T) {
	tc := startCluster(t, nil)
	p1 := tc.register("NP1")
	p2, _ := tc.dialPeer()
	p2.send("%s%s", peerConnect("NP1", ""), peerInfo("NP1", "NP1", 7000))
	assert.Equal(t, p2.eof(), "")
	tc.closedFor(conn.DuplicateRoute, 1)
	assert.DeepEqual(t, tc.activeIDs(), []string{"NP1"})
	p1.send("PING\r\n")
	assert.Equal(t, p1.lineSkippingPings(), "PONG")
	tc.waitLog("Detected duplicate remote route")
}

// TestRouteToSelf: an INFO carrying this server's own id closes the route
// (DuplicateRoute); an explicit route to this server's own address is
// never dialled.
func TestRouteToSelf(t *testing.T) {
	tc := startCluster(t, nil)
	p, _ := tc.dialPeer()
	p.send("%s%s", peerConnect(selfID, ""), peerInfo(selfID, "self", tc.port))
	p.eof()
	tc.closedFor(conn.DuplicateRoute, 1)
	assert.Equal(t, len(tc.Routes()), 0)

	cfg := *tc.config()
	u, err := ParseRouteURL("nats-route://127.0.0.1:" + strconv.Itoa(tc.port))
	assert.NilError(t, err)
	cfg.Routes = append(cfg.Routes, u)
	tc.Reload(&cfg)
	waitFor(t, "give_up", func() bool {
		return slices.ContainsFunc(tc.History(), func(tr Transition) bool {
			return tr.Event == "give_up" && tr.Cause == "own cluster address"
		})
	})
}

// TestDuplicateServerName: an accepted route from a server with this
// server's name is refused.
func TestDuplicateServerName(t *testing.T) {
	tc := startCluster(t, nil)
	p, _ := tc.dialPeer()
	p.send("%s%s", peerConnect("NP1", ""), peerInfo("NP1", "self", 7000))
	p.eof()
	tc.closedFor(conn.DuplicateServerName, 1)
	tc.waitLog(`Remote server has a duplicate name: "self"`)
}

// TestDedicatedAccountRouteRefused: natsd has no pool, so a per-account
// route is refused as nats-server refuses one with an old server.
func TestDedicatedAccountRouteRefused(t *testing.T) {
	tc := startCluster(t, nil)
	p, _ := tc.dialPeer()
	info := strings.Replace(peerInfo("NP1", "p1", 7000), `"server_id"`, `"route_account":"$SYS","server_id"`, 1)
	p.send("%s%s", peerConnect("NP1", ""), info)
	assert.Equal(t, p.eof(), `-ERR 'Not possible to have a dedicated route for account "$SYS" between those servers'`+"\r\n")
	tc.closedFor(conn.ProtocolViolation, 1)
}

// TestStaleRoute: a peer that answers no PING is closed after ping_max
// unanswered PINGs.
func TestStaleRoute(t *testing.T) {
	tc := startCluster(t, func(c *Config) { c.PingInterval, c.PingMax = 50*time.Millisecond, 2 })
	p := tc.register("NP1")
	assert.Equal(t, p.line(), "PING")
	assert.Equal(t, p.line(), "PING")
	assert.Equal(t, p.eof(), "-ERR 'Stale Connection'\r\n")
	tc.closedFor(conn.StaleConnection, 1)
}

// TestMaxControlLine: routes accept 16 times max_control_line.
func TestMaxControlLine(t *testing.T) {
	tc := startCluster(t, func(c *Config) { c.MaxControlLine = 64 })
	p := tc.register("NP1")
	p.send("RS+ $G %s\r\nPING\r\n", strings.Repeat("a", 900))
	assert.Equal(t, p.lineSkippingPings(), "PONG")
	p.send("RS+ $G %s\r\n", strings.Repeat("a", 1100))
	assert.Equal(t, p.eof(), "-ERR 'maximum control line exceeded'\r\n")
	tc.closedFor(conn.MaxControlLineExceeded, 1)
}
