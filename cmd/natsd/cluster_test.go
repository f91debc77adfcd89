package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/natsd/natsd/internal/testcert"
	"github.com/natsd/natsd/lifecycle"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// TestClusterFlags: nats-server's cluster flags, in each spelling.
func TestClusterFlags(t *testing.T) {
	cluster := func(s *settings) lifecycle.ClusterOptions { return s.Server.Cluster }
	cases := []struct {
		args  []string
		check func(*testing.T, lifecycle.ClusterOptions)
	}{
		{[]string{"--cluster", "nats://127.0.0.1:6222", "--cluster_name", "c1"}, func(t *testing.T, c lifecycle.ClusterOptions) {
			assert.Equal(t, c.Host, "127.0.0.1")
			assert.Equal(t, c.Port, 6222)
			assert.Equal(t, c.Name, "c1")
		}},
		{[]string{"-cluster", "nats://0.0.0.0:-1", "-cluster_name", "c1"}, func(t *testing.T, c lifecycle.ClusterOptions) {
			assert.Equal(t, c.Host, "0.0.0.0")
			assert.Equal(t, c.Port, -1)
		}},
		{[]string{"--cluster_listen", "nats://ruser:rpass@127.0.0.1:6222", "--cluster_name=c1"}, func(t *testing.T, c lifecycle.ClusterOptions) {
			assert.Equal(t, c.Username, "ruser")
			assert.Equal(t, c.Password, "rpass")
		}},
		{[]string{"--cluster", "nats://127.0.0.1:6222", "--cluster_name", "c1", "-routes", "nats-route://a:1, nats-route://b:2"}, func(t *testing.T, c lifecycle.ClusterOptions) {
			assert.DeepEqual(t, c.Routes, []string{"nats-route://a:1", "nats-route://b:2"})
		}},
		{[]string{"--cluster", "nats://127.0.0.1:6222", "--cluster_name", "c1", "-no_advertise", "--cluster_advertise", "10.0.0.1:7222", "-connect_retries", "3"}, func(t *testing.T, c lifecycle.ClusterOptions) {
			assert.Assert(t, c.NoAdvertise)
			assert.Equal(t, c.Advertise, "10.0.0.1:7222")
			assert.Equal(t, c.ConnectRetries, 3)
		}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, st, err := parse(t, tc.args...)
			assert.NilError(t, err)
			tc.check(t, cluster(st))
		})
	}
}

// TestClusterConfigBlock: the cluster {} block with nats-server's names;
// flags override it.
func TestClusterConfigBlock(t *testing.T) {
	conf := writeConf(t, `
cluster {
  name: c1
  listen: "127.0.0.1:6222"
  routes: [nats-route://127.0.0.1:6223, "nats-route://ruser:rpass@127.0.0.1:6224"]
  no_advertise: true
  advertise: "10.0.0.1:7222"
  connect_retries: 5
  connect_backoff: true
  pool_size: -1
  compression: off
  ping_interval: "5s"
  ping_max: 3
  authorization { user: ruser, password: rpass, timeout: 0.5 }
}
`)
	_, st, err := parse(t, "-c", conf)
	assert.NilError(t, err)
	c := st.Server.Cluster
	assert.DeepEqual(t, c, lifecycle.ClusterOptions{
		Name: "c1", Host: "127.0.0.1", Port: 6222,
		Routes:      []string{"nats-route://127.0.0.1:6223", "nats-route://ruser:rpass@127.0.0.1:6224"},
		NoAdvertise: true, Advertise: "10.0.0.1:7222", ConnectRetries: 5, ConnectBackoff: true,
		PoolSize: -1, Compression: "off", PingInterval: 5 * time.Second, PingMax: 3,
		Username: "ruser", Password: "rpass", AuthTimeout: 500 * time.Millisecond,
	})
	_, st, err = parse(t, "-c", conf, "--cluster", "nats://127.0.0.1:7000", "--routes", "nats-route://x:1")
	assert.NilError(t, err)
	assert.Equal(t, st.Server.Cluster.Port, 7000)
	assert.DeepEqual(t, st.Server.Cluster.Routes, []string{"nats-route://x:1"})
	assert.Equal(t, st.Server.Cluster.Username, "", "--cluster without credentials clears them, as nats-server")
}

// TestClusterTLSBlock: cluster { tls {} } with nats-server's keys; the
// timeout as a duration or seconds; handshake_first read and without
// effect (a route's handshake always comes first).
func TestClusterTLSBlock(t *testing.T) {
	certs := testcert.Write(t)
	for _, tc := range []struct {
		timeout string
		want    time.Duration
	}{{"3", 3 * time.Second}, {"0.5", 500 * time.Millisecond}, {`"250ms"`, 250 * time.Millisecond}} {
		conf := writeConf(t, `
cluster {
  name: c1
  port: 6222
  tls {
    cert_file: "`+certs.RouteCert+`"
    key_file: "`+certs.RouteKey+`"
    ca_file: "`+certs.CA+`"
    verify: true
    timeout: `+tc.timeout+`
    handshake_first: true
  }
}
`)
		_, st, err := parse(t, "-c", conf)
		assert.NilError(t, err)
		c := st.Server.Cluster
		assert.Equal(t, c.TLS, true)
		assert.Equal(t, c.TLSCert, certs.RouteCert)
		assert.Equal(t, c.TLSKey, certs.RouteKey)
		assert.Equal(t, c.TLSCACert, certs.CA)
		assert.Equal(t, c.TLSVerify, true)
		assert.Equal(t, c.TLSTimeout, tc.want)
		assert.Equal(t, st.Server.TLS, false, "the cluster's tls {} is not the clients'")
	}
}

// TestClusterConfigRefusals: what natsd cannot do is one line naming the
// option, never a warning followed by a start.
func TestClusterConfigRefusals(t *testing.T) {
	cases := []struct {
		name, conf, want string
	}{
		{"tls certificate missing", "cluster { name: c1, port: 6222, tls { cert_file: /nonexistent/a.pem, key_file: /nonexistent/b.pem } }", "cluster.tls: load certificate /nonexistent/a.pem and key /nonexistent/b.pem"},
		{"tls without key", "cluster { name: c1, port: 6222, tls { cert_file: a.pem } }", "cluster.tls: missing 'key_file' in TLS configuration"},
		{"tls without certificate", "cluster { name: c1, port: 6222, tls { ca_file: ca.pem } }", "cluster.tls: a certificate and its key are required"},
		{"tls pinned_certs", "cluster { name: c1, port: 6222, tls {\n cert_file: a\n pinned_certs: [] } }", "conf:3: cluster tls pinned_certs is not supported by natsd"},
		{"tls cert_store", "cluster { name: c1, port: 6222, tls { cert_store: WindowsCurrentUser } }", "cluster tls cert_store is not supported by natsd"},
		{"tls ocsp_peer", "cluster { name: c1, port: 6222, tls { ocsp_peer: true } }", "cluster tls ocsp_peer is not supported by natsd"},
		{"tls insecure", "cluster { name: c1, port: 6222, tls { insecure: true } }", "cluster tls insecure is not supported by natsd"},
		{"tls verify_and_map", "cluster { name: c1, port: 6222, tls { verify_and_map: true } }", "cluster tls verify_and_map (route authentication by certificate) is not supported by natsd"},
		{"tls handshake_first fallback", "cluster { name: c1, port: 6222, tls { handshake_first: auto } }", "cluster tls handshake_first auto (handshake_first fallback) is not supported by natsd"},
		{"tls unknown key", "cluster { name: c1, port: 6222, tls { cert: a } }", `unknown field "cert"`},
		{"tls verify not a boolean", "cluster { name: c1, port: 6222, tls { verify: yes_please } }", "verify: expected a boolean"},
		{"tls not a block", "cluster { name: c1, port: 6222, tls: true }", "cluster tls: expected a block"},
		{"pool", "cluster { name: c1, port: 6222, pool_size: 3 }", "cluster.pool_size: natsd speaks only the unpooled route protocol"},
		{"compression", "cluster { name: c1, port: 6222, compression: s2_auto }", `cluster.compression: natsd does not compress routes; "s2_auto" is not supported`},
		{"compression on", "cluster { name: c1, port: 6222, compression: true }", `cluster.compression`},
		{"unknown option", "cluster { name: c1, port: 6222, permissions { import: foo } }", `cluster permissions is not supported by natsd`},
		{"no name", "cluster { port: 6222 }", "cluster.name: a cluster name is required"},
		{"name with a space", "cluster { name: \"a b\", port: 6222 }", "cluster.name: cluster name cannot contain spaces"},
		{"routes without listener", "cluster { name: c1, routes: [nats-route://a:1] }", "cluster.routes: routes need a cluster listener"},
		{"bad route", "cluster { name: c1, port: 6222, routes: [\"http://a:1\"] }", `cluster.routes: route URL "http://a:1": the scheme must be nats-route://`},
		{"route without port", "cluster { name: c1, port: 6222, routes: [\"nats-route://a\"] }", "a host and a port are required"},
		{"token", "cluster { name: c1, port: 6222, authorization { token: x } }", "cluster authorization does not support tokens"},
		{"users", "cluster { name: c1, port: 6222, authorization { users: [] } }", "cluster authorization does not allow multiple users"},
		{"bad listen", "cluster { name: c1, listen: nope }", `cluster listen: expected host:port, got "nope"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conf := writeConf(t, tc.conf+"\n")
			code, out := runNatsd(t, "-c", conf, "-t")
			assert.Equal(t, code, 1, out)
			assert.Assert(t, strings.Contains(out, tc.want), "output %q lacks %q", out, tc.want)
			assert.Equal(t, strings.Count(strings.TrimSpace(out), "\n"), 0, "want one line, got:\n%s", out)
		})
	}
}

// TestClusterProcesses: two natsd processes from the command line, the
// second seeded with the first's cluster URL from its ports file; each
// lists the other in /routez and logs the route's transitions, and both
// stop cleanly.
func TestClusterProcesses(t *testing.T) {
	prepareNatsd(t)
	p1 := startNatsd(t, "-m", "-1", "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "c1", "-n", "one")
	ports := p1.ports()
	assert.Equal(t, len(ports.Cluster), 1, "ports file: %+v", ports)
	assert.Assert(t, strings.HasPrefix(ports.Cluster[0], "nats://127.0.0.1:"), ports.Cluster[0])
	route := "nats-route://" + strings.TrimPrefix(ports.Cluster[0], "nats://")
	p2 := startNatsd(t, "-m", "-1", "-cluster", "nats://127.0.0.1:-1", "-cluster_name", "c1", "-n", "two", "-routes", route)
	for _, p := range []*proc{p1, p2} {
		mon := p.ports().Monitoring[0]
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			resp, err := http.Get(mon + "/routez")
			if err != nil {
				return poll.Continue("%v", err)
			}
			defer resp.Body.Close()
			var rz struct {
				NumRoutes int `json:"num_routes"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&rz); err != nil || rz.NumRoutes != 1 {
				return poll.Continue("routez: %d routes, %v", rz.NumRoutes, err)
			}
			return poll.Success()
		}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(20*time.Second))
	}
	p2.waitLog("Route state handshaking -> active (event registered")
	p1.signal(syscall.SIGTERM)
	assert.Equal(t, p1.wait(), 0)
	p2.waitLog("Route state active -> closing")
	p2.signal(syscall.SIGTERM)
	assert.Equal(t, p2.wait(), 0)
	for _, p := range []*proc{p1, p2} {
		_, err := os.Stat(filepath.Join(p.dir, filepath.Base(p.portsFile())))
		assert.Assert(t, os.IsNotExist(err), "ports file left behind")
	}
}
