package lifecycle

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/conn"
	"github.com/natsd/natsd/lifecycle/monitor"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"
)

// monClient asks the monitoring port without keep-alive, so no idle
// connection (and no client goroutine) outlives a request.
var monClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true},
	Timeout:   5 * time.Second,
}

// monURL returns the monitoring base URL from the server's ports.
func monURL(t *testing.T, s *Server) string {
	t.Helper()
	p := s.Ports()
	assert.Assert(t, len(p.Monitoring) == 1, "monitoring URLs: %v", p.Monitoring)
	return p.Monitoring[0]
}

// monGet requests url and returns the status and body.
func monGet(url string) (int, []byte, error) { return httpGet(monClient, url) }

// monJSON requests url, checks for a 200 and decodes the body into v.
func monJSON(t *testing.T, url string, v any) {
	t.Helper()
	code, body, err := monGet(url)
	assert.NilError(t, err)
	assert.Equal(t, code, http.StatusOK, "GET %s: %s", url, body)
	assert.NilError(t, json.Unmarshal(body, v), "GET %s: %s", url, body)
}

// inProcess answers monitoring requests from the server's data without
// its listener, so the final state can be read after Stopped.
func inProcess(t *testing.T, s *Server, path string, v any) {
	t.Helper()
	rec := httptest.NewRecorder()
	monitor.New(monitorSource{s: s}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	assert.Equal(t, rec.Code, http.StatusOK, "GET %s: %s", path, rec.Body)
	assert.NilError(t, json.Unmarshal(rec.Body.Bytes(), v))
}

// checkCountsAgree checks that /varz and /lifecyclez tell the same story.
func checkCountsAgree(t *testing.T, v *monitor.Varz, lz *monitor.Lifecyclez) {
	t.Helper()
	n := lz.Connections
	assert.Check(t, cmp.Equal(int64(v.Connections), int64(n.Open+n.Closing)), "varz connections vs lifecyclez open+closing")
	assert.Check(t, cmp.Equal(int64(v.TotalConnections), int64(n.Open+n.Closing)+n.Closed), "varz total_connections vs lifecyclez open+closing+closed")
	slow := lz.ClosedReasons[conn.SlowConsumerPendingBytes.String()] + lz.ClosedReasons[conn.SlowConsumerWriteDeadline.String()]
	assert.Check(t, cmp.Equal(v.SlowConsumers, slow), "varz slow_consumers vs lifecyclez slow-consumer closes")
	assert.Check(t, cmp.Equal(v.StaleConnections, lz.ClosedReasons[conn.StaleConnection.String()]), "varz stale_connections vs lifecyclez")
	assert.Check(t, cmp.Equal(v.State, lz.State))
}

// stuckSubscriber subscribes to subject on a raw socket it never reads.
func stuckSubscriber(t *testing.T, s *Server, subject string) *rawClient {
	t.Helper()
	c := dialRaw(t, s)
	assert.NilError(t, c.nc.(*net.TCPConn).SetReadBuffer(4096))
	return subscribeStuck(t, c, subject)
}

// subscribeStuck subscribes c to subject; the caller then never reads it.
func subscribeStuck(t *testing.T, c *rawClient, subject string) *rawClient {
	t.Helper()
	c.send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB " + subject + " 1\r\nPING\r\n")
	assert.Equal(t, c.line(), "PONG")
	return c
}

func localPort(c *rawClient) int { return c.nc.LocalAddr().(*net.TCPAddr).Port }

// TestVarzShowsTheDefaults: options left unset read as nats-server's
// defaults, max_connections (64K, which is also enforced) included.
func TestVarzShowsTheDefaults(t *testing.T) {
	s := startServer(t, nil)
	var v monitor.Varz
	inProcess(t, s, monitor.VarzPath, &v)
	assert.Equal(t, v.MaxConn, 65536)
	assert.Equal(t, v.MaxPayload, 1024*1024)
	assert.Equal(t, v.MaxControlLine, 4096)
	assert.Equal(t, v.MaxPending, int64(64*1024*1024))
	assert.Equal(t, v.MaxPingsOut, 2)
	assert.Equal(t, v.PingInterval, 2*time.Minute)
	assert.Equal(t, v.WriteDeadline, 10*time.Second)
}

// TestMonitorClosedConnections closes clients for several reasons and
// reads them back from /connz?state=closed, with /varz and /lifecyclez
// agreeing on the counts, first over HTTP while the server runs, then
// from the final state once it stopped.
func TestMonitorClosedConnections(t *testing.T) {
	s := startServer(t, func(o *Options) {
		o.HTTPPort = RandomPort
		o.MaxPayload = 1024
		o.MaxPending = 256 * 1024
		o.LameDuckDuration = time.Hour
		o.LameDuckGracePeriod = 30 * time.Minute
	})
	base := monURL(t, s)

	// Client Closed: a nats.go client closes.
	bye := connect(t, s, nats.Name("bye"))
	byeCID, err := bye.GetClientID()
	assert.NilError(t, err)
	bye.Close()

	// Maximum Message Payload Exceeded: a raw client publishes too much.
	big := dialRaw(t, s)
	big.send("CONNECT {\"verbose\":false}\r\nPUB big 2048\r\n")
	assert.Equal(t, big.line(), "-ERR 'Maximum Payload Violation'")
	big.eof()

	// Slow Consumer (Pending Bytes): a raw subscriber that never reads.
	slow := stuckSubscriber(t, s, "flood")
	pub := connect(t, s, nats.Name("pub"))
	payload := make([]byte, 1024)
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if s.Stats().SlowConsumers.Load() > 0 {
			return poll.Success()
		}
		for range 500 {
			if err := pub.Publish("flood", payload); err != nil {
				return poll.Error(err)
			}
		}
		if err := pub.Flush(); err != nil {
			return poll.Error(err)
		}
		return poll.Continue("no slow consumer yet")
	}, poll.WithTimeout(20*time.Second), poll.WithDelay(time.Millisecond))

	// Two clients that the lame-duck shutdown will close.
	ld1 := connect(t, s, nats.Name("ld1"))
	ld2 := connect(t, s, nats.Name("ld2"))
	flush(t, ld1, ld2)

	want := map[string]string{ // port or name -> reason
		"bye":                         conn.ClientClosed.String(),
		strconv.Itoa(localPort(big)):  conn.MaxPayloadExceeded.String(),
		strconv.Itoa(localPort(slow)): conn.SlowConsumerPendingBytes.String(),
	}
	key := func(ci *monitor.ConnInfo) string {
		if ci.Name != "" {
			return ci.Name
		}
		return strconv.Itoa(ci.Port)
	}

	// While running: the three closed ones over HTTP, and the counts agree.
	var connz monitor.Connz
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		monJSON(t, base+"/connz?state=closed", &connz)
		if connz.Total < 3 {
			return poll.Continue("%d closed connections listed", connz.Total)
		}
		return poll.Success()
	}, poll.WithTimeout(10*time.Second), poll.WithDelay(time.Millisecond))
	assert.Equal(t, connz.Total, 3)
	for _, ci := range connz.Conns {
		assert.Check(t, cmp.Equal(ci.Reason, want[key(ci)]), "connection %s (cid %d)", key(ci), ci.CID)
		assert.Check(t, ci.Stop != nil && !ci.Stop.Before(ci.Start), "connection %s has no stop time", key(ci))
		if ci.Name == "bye" {
			assert.Check(t, cmp.Equal(ci.CID, byeCID))
		}
	}
	var open monitor.Connz
	monJSON(t, base+"/connz", &open)
	assert.Equal(t, open.Total, 3) // pub, ld1, ld2
	for _, ci := range open.Conns {
		assert.Check(t, ci.Stop == nil && ci.Reason == "", "open connection %s has a stop or reason", key(ci))
	}
	var v monitor.Varz
	var lz monitor.Lifecyclez
	monJSON(t, base+"/varz", &v)
	monJSON(t, base+"/lifecyclez", &lz)
	checkCountsAgree(t, &v, &lz)
	assert.Equal(t, v.TotalConnections, uint64(6))
	assert.Equal(t, v.SlowConsumers, int64(1))
	assert.Equal(t, lz.State, "listening")

	// Lame duck, then a shutdown that cuts it short: the rest close with
	// Server Shutdown.
	assert.NilError(t, s.EnterLameDuck())
	monJSON(t, base+"/lifecyclez", &lz)
	assert.Equal(t, lz.State, "lame_duck")
	assert.NilError(t, s.Shutdown())
	for _, name := range []string{"pub", "ld1", "ld2"} {
		want[name] = conn.ServerShutdown.String()
	}

	inProcess(t, s, "/connz?state=closed", &connz)
	assert.Equal(t, connz.Total, 6)
	for _, ci := range connz.Conns {
		assert.Check(t, cmp.Equal(ci.Reason, want[key(ci)]), "connection %s (cid %d)", key(ci), ci.CID)
	}
	inProcess(t, s, "/varz", &v)
	inProcess(t, s, "/lifecyclez", &lz)
	checkCountsAgree(t, &v, &lz)
	assert.DeepEqual(t, lz.ClosedReasons, map[string]int64{
		"Client Closed":                    1,
		"Maximum Message Payload Exceeded": 1,
		"Slow Consumer (Pending Bytes)":    1,
		"Server Shutdown":                  3,
	})
	assert.Equal(t, lz.Connections, monitor.ConnStateCounts{Closed: 6})
	assert.Equal(t, lz.State, "stopped")
	var got []string
	for _, tr := range lz.Transitions {
		got = append(got, tr.From+"->"+tr.To)
	}
	assert.DeepEqual(t, got, []string{"init->listening", "listening->lame_duck", "lame_duck->shutting_down", "shutting_down->stopped"})
}

// TestHealthzDuringDrainAndShutdown: /healthz turns 503 the moment lame
// duck is requested, and the monitoring port answers through lame duck and
// shutting down, until the shutdown ends. It runs on the fake clock of a
// synctest bubble over an in-memory network: the stuck client holds the
// shutdown for exactly shutdown_timeout, which passes at once.
func TestHealthzDuringDrainAndShutdown(t *testing.T) {
	bubble(t, func(t *testing.T) {
		mn := newMemNet()
		client := mn.httpClient()
		s := startMemServer(t, mn, Deps{}, func(o *Options) {
			o.HTTPPort = RandomPort
			o.LameDuckDuration = time.Hour
			o.LameDuckGracePeriod = 30 * time.Minute
			o.ShutdownTimeout = 2 * time.Second
			o.WriteDeadline = time.Minute
		})
		base := monURL(t, s)
		get := func(path string, v any) int {
			t.Helper()
			code, body, err := httpGet(client, base+path)
			assert.NilError(t, err)
			assert.NilError(t, json.Unmarshal(body, v), "%s", body)
			return code
		}
		var hs monitor.HealthStatus
		assert.Equal(t, get("/healthz", &hs), http.StatusOK)
		assert.DeepEqual(t, hs, monitor.HealthStatus{Status: "ok"})

		// A subscriber that never reads keeps the shutdown busy until
		// shutdown_timeout.
		sub := dialMemRaw(t, mn, s)
		sub.send("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB stuck 1\r\nPING\r\n")
		assert.Equal(t, sub.line(), "PONG")
		pub := connectMem(t, mn, s)
		chunk := bytes.Repeat([]byte("z"), 4096)
		for range 1000 {
			assert.NilError(t, pub.Publish("stuck", chunk))
		}
		assert.NilError(t, pub.Flush())

		began := time.Now()
		assert.NilError(t, s.EnterLameDuck())
		hs = monitor.HealthStatus{}
		assert.Equal(t, get("/healthz", &hs), http.StatusServiceUnavailable)
		assert.DeepEqual(t, hs, monitor.HealthStatus{Status: "unavailable", Error: "server is lame_duck"})
		assert.Equal(t, time.Since(began), time.Duration(0))

		// Lame duck: the other endpoints still answer.
		var v monitor.Varz
		assert.Equal(t, get("/varz", &v), http.StatusOK)
		assert.Equal(t, v.State, "lame_duck")
		var connz monitor.Connz
		assert.Equal(t, get("/connz", &connz), http.StatusOK)
		assert.Equal(t, connz.Total, 2)

		// Shutting down: still answering, with the state named, until the
		// deadline releases the stuck client.
		done := make(chan error, 1)
		go func() { done <- s.Shutdown() }()
		synctest.Wait()
		hs = monitor.HealthStatus{}
		assert.Equal(t, get("/healthz", &hs), http.StatusServiceUnavailable)
		assert.Equal(t, hs.Error, "server is shutting_down")
		var lz monitor.Lifecyclez
		assert.Equal(t, get("/lifecyclez", &lz), http.StatusOK)
		assert.Equal(t, lz.State, "shutting_down")
		assert.NilError(t, <-done)
		assert.Equal(t, time.Since(began), 2*time.Second, "the shutdown did not end at shutdown_timeout")
		for _, c := range s.Closed() {
			assert.Equal(t, c.Reason, conn.ServerShutdown)
		}
	})
}

// httpGet requests url with client and returns the status and body.
func httpGet(client *http.Client, url string) (int, []byte, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// TestMonitoringAndProfilingListeners: both are in the ports file, each
// serves its own mux, and both are gone after shutdown.
func TestMonitoringAndProfilingListeners(t *testing.T) {
	dir := t.TempDir()
	s := startServerWith(t, Deps{ProgName: "natsd"}, func(o *Options) {
		o.HTTPPort = RandomPort
		o.ProfPort = RandomPort
		o.PortsFileDir = dir
	})
	b, err := os.ReadFile(filepath.Join(dir, "natsd_"+strconv.Itoa(os.Getpid())+".ports"))
	assert.NilError(t, err)
	var ports Ports
	assert.NilError(t, json.Unmarshal(b, &ports))
	assert.Equal(t, len(ports.Monitoring), 1)
	assert.Equal(t, len(ports.Profile), 1)
	assert.DeepEqual(t, ports, s.Ports())
	mon, prof := ports.Monitoring[0], ports.Profile[0]
	assert.Assert(t, strings.HasPrefix(mon, "http://127.0.0.1:"), mon)
	assert.Assert(t, strings.HasPrefix(prof, "http://127.0.0.1:"), prof)

	cases := []struct {
		url  string
		want int
	}{
		{mon + "/varz", http.StatusOK},
		{mon + "/", http.StatusOK},
		{mon + "/debug/pprof/", http.StatusNotFound}, // not http.DefaultServeMux
		{prof + "/debug/pprof/", http.StatusOK},
		{prof + "/debug/pprof/cmdline", http.StatusOK},
		{prof + "/varz", http.StatusNotFound},
	}
	for _, tc := range cases {
		code, _, err := monGet(tc.url)
		assert.NilError(t, err)
		assert.Check(t, cmp.Equal(code, tc.want), tc.url)
	}
	var v monitor.Varz
	monJSON(t, mon+"/varz", &v)
	assert.Equal(t, strconv.Itoa(v.HTTPPort), mon[strings.LastIndex(mon, ":")+1:])
	assert.Equal(t, v.Port, s.Port())
	assert.Equal(t, v.ID, s.ID())
	assert.Equal(t, v.Name, s.ID())
	assert.Equal(t, v.SystemAccount, "$SYS")

	assert.NilError(t, s.Shutdown())
	for _, u := range []string{mon, prof} {
		_, _, err := monGet(u + "/")
		assert.Assert(t, err != nil, "%s still answers after Stopped", u)
	}
}

func TestNoSystemAccount(t *testing.T) {
	s := startServer(t, func(o *Options) {
		o.HTTPPort = RandomPort
		o.NoSystemAccount = true
	})
	_, body, err := monGet(monURL(t, s) + "/varz")
	assert.NilError(t, err)
	assert.Assert(t, !bytes.Contains(body, []byte("system_account")), "%s", body)
}

// TestExtraListenerBindFailure: a port in use fails the start with one
// line naming the listener and the address, and leaves nothing bound.
func TestExtraListenerBindFailure(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	free := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		assert.NilError(t, err)
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	cases := []struct {
		name    string
		mod     func(o *Options, clientPort, httpPort int)
		wantErr string
	}{
		{
			name: "monitoring",
			mod: func(o *Options, _, _ int) {
				o.HTTPPort = busyPort
			},
			wantErr: "monitoring: listen tcp 127.0.0.1:" + strconv.Itoa(busyPort) + ": bind: address already in use",
		},
		{
			name: "profiling after monitoring",
			mod: func(o *Options, _, httpPort int) {
				o.HTTPPort = httpPort
				o.ProfPort = busyPort
			},
			wantErr: "profiling: listen tcp 127.0.0.1:" + strconv.Itoa(busyPort) + ": bind: address already in use",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var (
				clientPort, httpPort int
				s                    *Server
				err                  error
			)
			// The free ports are picked, released, then bound again: on a
			// busy machine another process can take one in between, which
			// is not what this test is about, so pick again.
			for attempt := 0; ; attempt++ {
				clientPort, httpPort = free(), free()
				o := &Options{Host: "127.0.0.1", Port: clientPort}
				tc.mod(o, clientPort, httpPort)
				s, err = New(o, Deps{Log: quietLog(t)})
				assert.NilError(t, err)
				err = s.Start()
				if err == nil || strings.Contains(err.Error(), ":"+strconv.Itoa(busyPort)+":") || attempt == 4 {
					break
				}
				t.Logf("a picked port was taken meanwhile (%v); picking again", err)
			}
			assert.Error(t, err, tc.wantErr)
			assert.Assert(t, !strings.Contains(err.Error(), "\n"))
			assert.Equal(t, s.State(), Stopped)
			for _, p := range []int{clientPort, httpPort} {
				l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
				if err == nil {
					l.Close()
				}
				assert.NilError(t, err, "port %d left bound", p)
			}
		})
	}
}

// TestConnzRTT: /connz shows the round trip as nats-server measures it:
// estimated at CONNECT (the time since accept), then measured by the
// server's first PING, which follows CONNECT within 2 s (plus up to 20%)
// rather than a whole ping_interval; the closed connection keeps it. Fake
// clock, in-memory network: the client answers exactly 5 ms late.
func TestConnzRTT(t *testing.T) {
	bubble(t, func(t *testing.T) {
		mn := newMemNet()
		s := startMemServer(t, mn, Deps{}, nil)
		rtt := func(state string) string {
			t.Helper()
			var cz monitor.Connz
			inProcess(t, s, monitor.ConnzPath+"?state="+state, &cz)
			assert.Equal(t, len(cz.Conns), 1)
			return cz.Conns[0].RTT
		}
		c := dialMemRaw(t, mn, s)
		connected := time.Now()
		c.send("CONNECT {\"verbose\":false,\"lang\":\"raw\"}\r\nPING\r\n")
		assert.Equal(t, c.line(), "PONG")
		assert.Equal(t, rtt("open"), "1ns", "the CONNECT estimate (no fake time passed since accept)")

		assert.Equal(t, c.line(), "PING")
		after := time.Since(connected)
		assert.Assert(t, after >= 2*time.Second && after < 2400*time.Millisecond, "first PING %v after CONNECT", after)
		time.Sleep(5 * time.Millisecond)
		c.send("PONG\r\n")
		synctest.Wait()
		assert.Equal(t, rtt("open"), "5ms")

		c.nc.Close()
		synctest.Wait()
		assert.Equal(t, rtt("closed"), "5ms")
	})
}
