package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/internal/testcert"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// Cluster TLS between real processes: nats-server v2.15.2 and natsd with
// the same cluster { tls {} } (certificates from internal/testcert), in
// both directions, natsd to natsd, a certificate the CA did not sign, and
// TLS on one side only.

// clusterTLSConf is a config file whose cluster block has a tls {} block
// with cert and key (and the CA of certs), and routes.
func clusterTLSConf(t *testing.T, certs testcert.Files, cert, key string, routes ...string) string {
	t.Helper()
	return writeConf(t, clusterConfBody(fmt.Sprintf(`tls {
    cert_file: %q
    key_file: %q
    ca_file: %q
    verify: true
    timeout: 2
  }`, cert, key, certs.CA), routes...))
}

// plainClusterConf is a config file whose cluster block has only routes.
func plainClusterConf(t *testing.T, routes ...string) string {
	t.Helper()
	return writeConf(t, clusterConfBody("", routes...))
}

func clusterConfBody(tlsBlock string, routes ...string) string {
	var rs []string
	for _, r := range routes {
		rs = append(rs, fmt.Sprintf("%q", r))
	}
	return fmt.Sprintf("cluster {\n  routes: [%s]\n  %s\n}\n", strings.Join(rs, ", "), tlsBlock)
}

// startNatsdCluster runs natsd named name with conf in cluster c1.
func startNatsdCluster(t *testing.T, name, conf string) clusterNode {
	t.Helper()
	p := startNatsd(t, "-c", conf, "-m", "-1", "-n", name, "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "c1")
	return natsdNode(p, name)
}

// routezBody is the part of /routez these tests read.
type routezRoutes struct {
	NumRoutes int `json:"num_routes"`
	Routes    []struct {
		RemoteName string `json:"remote_name"`
		DidSolicit bool   `json:"did_solicit"`
	} `json:"routes"`
}

func getRoutezRoutes(t *testing.T, n clusterNode) routezRoutes {
	t.Helper()
	resp, err := http.Get(n.mon + "/routez")
	assert.NilError(t, err)
	defer resp.Body.Close()
	var rz routezRoutes
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&rz))
	return rz
}

// waitRoutes waits until a and b list each other in /routez.
func waitRoutes(t *testing.T, a, b clusterNode) {
	t.Helper()
	for _, p := range [][2]clusterNode{{a, b}, {b, a}} {
		from, to := p[0], p[1]
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			for _, r := range getRoutezRoutes(t, from).Routes {
				if r.RemoteName == to.name {
					return poll.Success()
				}
			}
			return poll.Continue("%s has no route to %s", from.name, to.name)
		}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(20*time.Second))
	}
}

// crossTraffic publishes on each node to a subscriber on the other with
// nats.go, once the subscription's interest reached the publisher's node.
func crossTraffic(t *testing.T, a, b clusterNode) {
	t.Helper()
	for _, p := range [][2]clusterNode{{a, b}, {b, a}} {
		pubNode, subNode := p[0], p[1]
		subject := fmt.Sprintf("tls.%s.to.%s", pubNode.name, subNode.name)
		sc, err := nats.Connect(subNode.url)
		assert.NilError(t, err)
		defer sc.Close()
		sub, err := sc.SubscribeSync(subject)
		assert.NilError(t, err)
		assert.NilError(t, sc.Flush())
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if slices.Contains(routezSubs(t, pubNode)[subNode.name], subject) {
				return poll.Success()
			}
			return poll.Continue("%s does not see %s's interest in %s", pubNode.name, subNode.name, subject)
		}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(10*time.Second))
		pc, err := nats.Connect(pubNode.url)
		assert.NilError(t, err)
		defer pc.Close()
		assert.NilError(t, pc.Publish(subject, []byte("over tls")))
		m, err := sub.NextMsg(5 * time.Second)
		assert.NilError(t, err, "%s -> %s", pubNode.name, subNode.name)
		assert.Equal(t, string(m.Data), "over tls")
	}
}

// clusterVarzTLS reads /varz's cluster tls fields.
func clusterVarzTLS(t *testing.T, n clusterNode) map[string]any {
	t.Helper()
	resp, err := http.Get(n.mon + "/varz")
	assert.NilError(t, err)
	defer resp.Body.Close()
	var v struct {
		Cluster map[string]any `json:"cluster"`
	}
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&v))
	out := map[string]any{}
	for _, k := range []string{"tls_required", "tls_verify", "tls_timeout"} {
		out[k] = v.Cluster[k]
	}
	return out
}

// routeInfoOverTLS dials n's route port, runs the TLS handshake first and
// returns the route INFO's TLS fields.
func routeInfoOverTLS(t *testing.T, certs testcert.Files, n clusterNode) map[string]any {
	t.Helper()
	c := certs.RouteConfig(t, certs.RouteCert, certs.RouteKey)
	c.ServerName = "127.0.0.1"
	tc, err := tls.Dial("tcp", strings.TrimPrefix(n.route, "nats-route://"), c)
	assert.NilError(t, err)
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(tc).ReadString('\n')
	assert.NilError(t, err)
	assert.Assert(t, strings.HasPrefix(line, "INFO {"), line)
	var info map[string]any
	assert.NilError(t, json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, "INFO "))), &info))
	return map[string]any{"tls_required": info["tls_required"], "tls_verify": info["tls_verify"]}
}

// TestClusterTLSWithNatsServer: natsd and nats-server with the same cluster
// TLS form a route whichever dials, carry messages both ways, list each
// other in /routez, and say tls_required and tls_verify alike in the
// route INFO and /varz.
func TestClusterTLSWithNatsServer(t *testing.T) {
	prepareNatsd(t)
	certs := testcert.Write(t)
	t.Run("natsd dials nats-server", func(t *testing.T) {
		ns := startNatsServerNode(t, "ns", clusterTLSConf(t, certs, certs.RouteCert, certs.RouteKey))
		nd := startNatsdCluster(t, "nd", clusterTLSConf(t, certs, certs.RouteCert, certs.RouteKey, ns.route))
		waitRoutes(t, nd, ns)
		rz := getRoutezRoutes(t, nd)
		assert.Equal(t, rz.NumRoutes, 1)
		assert.Assert(t, rz.Routes[0].DidSolicit)
		crossTraffic(t, nd, ns)
		assert.Assert(t, strings.Contains(nd.out.String(), "Route state connecting -> securing (event start_tls, cause: dialled "), nd.out.String())
		assert.Assert(t, strings.Contains(nd.out.String(), "Route state securing -> handshaking (event secured"), nd.out.String())
		assert.DeepEqual(t, routeInfoOverTLS(t, certs, nd), routeInfoOverTLS(t, certs, ns))
		assert.DeepEqual(t, routeInfoOverTLS(t, certs, nd), map[string]any{"tls_required": true, "tls_verify": true})
		assert.DeepEqual(t, clusterVarzTLS(t, nd), clusterVarzTLS(t, ns))
	})
	t.Run("nats-server dials natsd", func(t *testing.T) {
		nd := startNatsdCluster(t, "nd", clusterTLSConf(t, certs, certs.RouteCert, certs.RouteKey))
		ns := startNatsServerNode(t, "ns", clusterTLSConf(t, certs, certs.RouteCert, certs.RouteKey, nd.route))
		waitRoutes(t, nd, ns)
		rz := getRoutezRoutes(t, nd)
		assert.Equal(t, rz.NumRoutes, 1)
		assert.Assert(t, !rz.Routes[0].DidSolicit)
		crossTraffic(t, ns, nd)
		assert.Assert(t, strings.Contains(nd.out.String(), "Route state connecting -> securing (event start_tls, cause: accepted from "), nd.out.String())
	})
}

// TestClusterTLSNatsdToNatsd: two natsd processes with cluster TLS.
func TestClusterTLSNatsdToNatsd(t *testing.T) {
	prepareNatsd(t)
	certs := testcert.Write(t)
	a := startNatsdCluster(t, "a", clusterTLSConf(t, certs, certs.RouteCert, certs.RouteKey))
	b := startNatsdCluster(t, "b", clusterTLSConf(t, certs, certs.RouteCert, certs.RouteKey, a.route))
	waitRoutes(t, a, b)
	crossTraffic(t, a, b)
	assert.DeepEqual(t, clusterVarzTLS(t, a), map[string]any{"tls_required": true, "tls_verify": true, "tls_timeout": float64(2)})
}

// TestClusterTLSUntrustedCertificate: a natsd whose certificate the CA did
// not sign never gets an active route to a nats-server, whichever dials;
// natsd logs why at error level and keeps trying (nats-server's route
// TLS verifies the certificate whatever verify says, and so does natsd's).
func TestClusterTLSUntrustedCertificate(t *testing.T) {
	prepareNatsd(t)
	certs := testcert.Write(t)
	check := func(t *testing.T, nd, ns clusterNode, natsdLog, natsServerLog string) {
		t.Helper()
		// Two failures each: the route was tried again after the first.
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			if n := strings.Count(nd.out.String(), natsdLog); n < 2 {
				return poll.Continue("natsd logged %q %d times", natsdLog, n)
			}
			if n := strings.Count(ns.out.String(), natsServerLog); n < 2 {
				return poll.Continue("nats-server logged %q %d times", natsServerLog, n)
			}
			return poll.Success()
		}, poll.WithDelay(20*time.Millisecond), poll.WithTimeout(20*time.Second))
		assert.Equal(t, getRoutezRoutes(t, nd).NumRoutes, 0)
		assert.Equal(t, getRoutezRoutes(t, ns).NumRoutes, 0)
		assert.Assert(t, !strings.Contains(nd.out.String(), "-> active"), nd.out.String())
	}
	t.Run("natsd dials", func(t *testing.T) {
		ns := startNatsServerNode(t, "ns", clusterTLSConf(t, certs, certs.RouteCert, certs.RouteKey))
		nd := startNatsdCluster(t, "nd", clusterTLSConf(t, certs, certs.UntrustedCert, certs.UntrustedKey, ns.route))
		// natsd's certificate does not match the CA nats-server asks for,
		// so crypto/tls sends none; with TLS 1.3 the refusal arrives as an
		// alert on natsd's first read.
		check(t, nd, ns, "TLS route error: remote error: tls: certificate required", "TLS route handshake error: tls: client didn't provide a certificate")
	})
	t.Run("nats-server dials", func(t *testing.T) {
		nd := startNatsdCluster(t, "nd", clusterTLSConf(t, certs, certs.UntrustedCert, certs.UntrustedKey))
		ns := startNatsServerNode(t, "ns", clusterTLSConf(t, certs, certs.RouteCert, certs.RouteKey, nd.route))
		check(t, nd, ns, "TLS route handshake error: remote error: tls: bad certificate", "x509: certificate signed by unknown authority")
	})
}

// TestClusterTLSMismatch: TLS on one side only fails cleanly, whichever
// side has it and whichever dials: no route, a log line on natsd's side
// saying what happened, natsd still serving and stopping cleanly.
func TestClusterTLSMismatch(t *testing.T) {
	prepareNatsd(t)
	certs := testcert.Write(t)
	tlsConf := func(t *testing.T, routes ...string) string {
		return clusterTLSConf(t, certs, certs.RouteCert, certs.RouteKey, routes...)
	}
	cases := []struct {
		name        string
		natsdTLS    bool
		natsdDials  bool
		natsdLog    string
		natsSrvLogs string
	}{
		{"tls natsd dials plain nats-server", true, true,
			"TLS route handshake error: tls: first record does not look like a TLS handshake", ""},
		{"plain natsd dials tls nats-server", false, true,
			"Route closed by the remote before it sent anything", "TLS route handshake error: tls: first record does not look like a TLS handshake"},
		{"tls nats-server dials plain natsd", false, false,
			"Route protocol error: the remote started a TLS handshake, but cluster tls is not configured on this server", ""},
		{"plain nats-server dials tls natsd", true, false,
			"TLS route handshake error: tls: first record does not look like a TLS handshake", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			natsdConf := func(routes ...string) string {
				if tc.natsdTLS {
					return tlsConf(t, routes...)
				}
				return plainClusterConf(t, routes...)
			}
			nsConf := func(routes ...string) string {
				if tc.natsdTLS {
					return plainClusterConf(t, routes...)
				}
				return tlsConf(t, routes...)
			}
			var nd, ns clusterNode
			var p *proc
			if tc.natsdDials {
				ns = startNatsServerNode(t, "ns", nsConf())
				p = startNatsd(t, "-c", natsdConf(ns.route), "-m", "-1", "-n", "nd", "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "c1")
				nd = natsdNode(p, "nd")
			} else {
				p = startNatsd(t, "-c", natsdConf(), "-m", "-1", "-n", "nd", "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "c1")
				nd = natsdNode(p, "nd")
				ns = startNatsServerNode(t, "ns", nsConf(nd.route))
			}
			poll.WaitOn(t, func(poll.LogT) poll.Result {
				if n := strings.Count(nd.out.String(), tc.natsdLog); n < 2 {
					return poll.Continue("natsd logged %q %d times", tc.natsdLog, n)
				}
				if tc.natsSrvLogs != "" && !strings.Contains(ns.out.String(), tc.natsSrvLogs) {
					return poll.Continue("nats-server has not logged %q", tc.natsSrvLogs)
				}
				return poll.Success()
			}, poll.WithDelay(20*time.Millisecond), poll.WithTimeout(20*time.Second))
			assert.Equal(t, getRoutezRoutes(t, nd).NumRoutes, 0)
			assert.Equal(t, getRoutezRoutes(t, ns).NumRoutes, 0)
			// natsd still serves its clients, and stops cleanly.
			nc, err := nats.Connect(nd.url)
			assert.NilError(t, err)
			assert.NilError(t, nc.Flush())
			nc.Close()
			p.signal(syscall.SIGTERM)
			assert.Equal(t, p.wait(), 0)
			assert.Assert(t, !strings.Contains(p.out.String(), "panic"), p.out.String())
		})
	}
}
