package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/natsd/natsd/internal/soak"
	"github.com/natsd/natsd/internal/tools"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// floodServer is a server process (natsd or the pinned nats-server) run by
// the flood suite with the same flags.
type floodServer struct {
	name   string
	cmd    *exec.Cmd
	addr   string
	mon    string // monitoring base URL
	out    *syncBuffer
	exited chan struct{}
}

// freeLoopbackPort returns a port that was free a moment ago.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startFloodServer runs bin on loopback with the config file conf and a
// monitoring port, and waits until it answers /varz.
func startFloodServer(t *testing.T, name, bin, conf string) *floodServer {
	t.Helper()
	port, mport := freeLoopbackPort(t), freeLoopbackPort(t)
	s := &floodServer{name: name, out: &syncBuffer{}, exited: make(chan struct{}),
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		mon:  fmt.Sprintf("http://127.0.0.1:%d", mport)}
	s.cmd = exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-m", strconv.Itoa(mport), "-c", conf)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	assert.NilError(t, s.cmd.Start())
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%.4000s", name, s.out.String())
		}
	})
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		select {
		case <-s.exited:
			return poll.Error(fmt.Errorf("%s exited:\n%s", name, s.out.String()))
		default:
		}
		if _, err := s.slowConsumers(); err == nil {
			return poll.Success()
		}
		return poll.Continue("waiting for %s", name)
	}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(20*time.Second))
	return s
}

// slowConsumers reads slow_consumers from /varz.
func (s *floodServer) slowConsumers() (int64, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(s.mon + "/varz")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var v struct {
		SlowConsumers int64 `json:"slow_consumers"`
	}
	err = json.NewDecoder(resp.Body).Decode(&v)
	return v.SlowConsumers, err
}

// memKiB returns the process's resident set and its peak (VmRSS, VmHWM).
func (s *floodServer) memKiB(t *testing.T) (rss, peak int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	assert.NilError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n
		case "VmHWM:":
			peak = n
		}
	}
	return rss, peak
}

// pingFlood runs clients that each connect, send PINGs as fast as the
// server takes them without ever reading a PONG, and connect again once
// the server closes them, until d has passed. It returns the PINGs sent
// and the connections made.
func pingFlood(addr string, clients int, d time.Duration, enough func() bool) (pings, conns int64) {
	batch := bytes.Repeat([]byte("PING\r\n"), (64<<10)/6)
	stop := time.Now().Add(d)
	var (
		sent, dialed atomic.Int64
		wg           sync.WaitGroup
		mu           sync.Mutex
		open         = map[net.Conn]bool{}
		done         = make(chan struct{})
	)
	ended := func() bool {
		select {
		case <-done:
			return true
		default:
			return !time.Now().Before(stop)
		}
	}
	if enough != nil {
		// Ends the flood early once it did what it is for: the write
		// deadlines of the open connections are moved to now.
		watch := time.NewTicker(50 * time.Millisecond)
		defer watch.Stop()
		go func() {
			for range watch.C {
				if ended() || enough() {
					mu.Lock()
					select {
					case <-done:
					default:
						close(done)
					}
					for nc := range open {
						nc.SetWriteDeadline(time.Now())
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !ended() {
				nc, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					time.Sleep(10 * time.Millisecond) // dial again after a refusal
					continue
				}
				dialed.Add(1)
				mu.Lock()
				open[nc] = true
				if ended() {
					nc.SetWriteDeadline(time.Now())
				} else {
					nc.SetWriteDeadline(stop)
				}
				mu.Unlock()
				nc.Write([]byte("CONNECT {\"verbose\":false}\r\n"))
				for {
					n, err := nc.Write(batch)
					sent.Add(int64(n / 6))
					if err != nil {
						break
					}
				}
				mu.Lock()
				delete(open, nc)
				mu.Unlock()
				nc.Close()
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	select {
	case <-done:
	default:
		close(done)
	}
	mu.Unlock()
	return sent.Load(), dialed.Load()
}

// TestFloodingClients: clients that flood PING and never read are closed
// as slow consumers by pending bytes, again and again, and the server's
// memory stays bounded by max_pending per client and comes back once they
// stop. natsd and the pinned nats-server run the same floods, with
// max_pending 1MB (as in issue 17, where natsd grew to 2 GB in 10 s and
// kept it) and with the default 64 MiB; the soak rows record both.
func TestFloodingClients(t *testing.T) {
	prepareNatsd(t)
	clients := soak.Size(1, 4)
	// The short run floods until the first slow consumer is counted (at
	// least minFlood, at most floodFor): how long a -race binary on a busy
	// machine takes to fill the socket buffers and max_pending varies.
	floodFor := soak.Size(30*time.Second, 10*time.Second)
	minFlood := soak.Size(2*time.Second, 10*time.Second)
	idleFor := soak.Size(5*time.Second, 10*time.Second)
	servers := []struct{ name, bin string }{{"natsd", natsdBin}}
	if soak.Enabled() {
		servers = append(servers, struct{ name, bin string }{"nats-server", tools.ForTest(t, tools.NatsServer)})
	}
	type limit struct {
		name, conf string
		maxPending int64 // KiB
	}
	limits := []limit{{"max_pending 1MB", "max_pending: 1MB\n", 1 << 10}}
	if soak.Enabled() {
		// The -race binary of the short run is too slow to fill 64 MiB
		// in the short flood.
		limits = append(limits, limit{"default max_pending 64MB", "", 64 << 10})
	}
	for _, limit := range limits {
		conf := filepath.Join(t.TempDir(), "flood.conf")
		assert.NilError(t, os.WriteFile(conf, []byte(limit.conf), 0o644))
		for _, srv := range servers {
			t.Run(limit.name+"/"+srv.name, func(t *testing.T) {
				s := startFloodServer(t, srv.name, srv.bin, conf)
				base, _ := s.memKiB(t)
				var enough func() bool
				if !soak.Enabled() {
					began := time.Now()
					enough = func() bool {
						n, err := s.slowConsumers()
						return err == nil && n > 0 && time.Since(began) >= minFlood
					}
				}
				floodStart := time.Now()
				pings, conns := pingFlood(s.addr, clients, floodFor, enough)
				flooded := time.Since(floodStart).Round(100 * time.Millisecond)
				_, peak := s.memKiB(t)
				var slow int64
				poll.WaitOn(t, func(poll.LogT) poll.Result {
					var err error
					if slow, err = s.slowConsumers(); err != nil {
						return poll.Error(err)
					}
					if slow > 0 {
						return poll.Success()
					}
					return poll.Continue("no slow consumer counted yet")
				}, poll.WithTimeout(10*time.Second))
				// How long the idle server takes to give the flood's memory
				// back (to within 16 MiB of its baseline), up to idleFor.
				idleFrom := time.Now()
				var after int64
				back := false
				for !back && time.Since(idleFrom) < idleFor {
					after, _ = s.memKiB(t)
					if back = after <= base+16<<10; !back {
						time.Sleep(100 * time.Millisecond) // sampling RSS
					}
				}
				backIn := "not within " + idleFor.String()
				if back {
					backIn = "in " + time.Since(idleFrom).Round(100*time.Millisecond).String()
				}
				t.Logf("%s, %s: %d clients, %d connections, %d PINGs in %v; %d slow consumers; RSS %d KiB before, peak %d KiB, then %d KiB, back %s",
					srv.name, limit.name, clients, conns, pings, flooded, slow, base, peak, after, backIn)
				if srv.name == "natsd" {
					// Every flood connection but the last few (cut by the
					// end of the flood) was closed as a slow consumer, and a
					// flood holds at most max_pending plus buffers per
					// client, twice over: what closed connections dropped
					// waits for the next garbage collection, which the
					// runtime starts when the heap has doubled (GOGC=100).
					assert.Assert(t, slow >= conns-int64(clients), "%d slow consumers for %d connections", slow, conns)
					bound := 2*int64(clients)*(limit.maxPending+16<<10) + 64<<10
					assert.Assert(t, peak-base < bound, "peak RSS %d KiB over a %d KiB baseline (bound %d KiB)", peak, base, bound)
					if soak.Enabled() { // a -race binary keeps more
						assert.Assert(t, back, "RSS %d KiB %v after the flood, baseline %d KiB", after, idleFor, base)
					}
				}
				assert.NilError(t, soak.Record(soak.Figures{
					Suite: "reader-less PING flood, " + limit.name, Mode: "process (" + srv.name + ")", Connections: clients,
					Sent: pings, Received: -1, Lost: -1, MaxRSSKiB: peak,
					GoroutinesBefore: -1, GoroutinesPeak: -1, GoroutinesAfter: -1, FDsBefore: -1, FDsPeak: -1, FDsAfter: -1,
					Notes: fmt.Sprintf("%s: %d clients flood PING for %v without reading, reconnecting when closed (%d connections); %d closed as Slow Consumer (Pending Bytes); RSS %.0f MiB before, peak %.0f MiB, then %.0f MiB: back within 16 MiB of the baseline %s of idling",
						srv.name, clients, flooded, conns, slow, float64(base)/1024, float64(peak)/1024, float64(after)/1024, backIn),
				}))
			})
		}
	}
}
