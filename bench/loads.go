package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// A load is one pub/sub job: pubs nats.go publishers send msgs messages of
// size bytes in all (an equal share each) to one subject held by subs
// light subscribers (subscriber.go), all in one queue group when queue is
// set. Its figures are the delivered rate (messages, or MB when mb is set,
// per second, from the first publish to the last delivery) and the
// server's CPU per delivered message.
type load struct {
	group string // the scenario (-only name) it belongs to; each group runs on one fresh server
	key   string // metric key: key is the rate, key+"_cpu" the CPU per message
	title string
	pubs  int
	subs  int
	queue bool
	size  int
	msgs  int // messages published in all; chosen so that a run lasts one to three seconds here
	mb    bool
}

// loads are the pub/sub rows beyond the 1 → 1 throughput rows. A new row is
// one more line; a new group name is a new scenario.
var loads = []load{
	{group: "fanout", key: "fanout_10", title: "fan-out 16 B, 1 pub → 10 subs on one subject (delivered)", pubs: 1, subs: 10, size: 16, msgs: 600_000},
	{group: "fanout", key: "fanout_100", title: "fan-out 16 B, 1 pub → 100 subs on one subject (delivered)", pubs: 1, subs: 100, size: 16, msgs: 60_000},
	{group: "fanin", key: "fanin_10", title: "fan-in 16 B, 10 pubs → 1 sub (delivered)", pubs: 10, subs: 1, size: 16, msgs: 3_000_000},
	{group: "fanin", key: "fanin_50", title: "fan-in 16 B, 50 pubs → 1 sub (delivered)", pubs: 50, subs: 1, size: 16, msgs: 3_000_000},
	{group: "queue", key: "queue_10", title: "queue group 16 B, 1 pub → a queue group of 10 (each message once; delivered)", pubs: 1, subs: 10, queue: true, size: 16, msgs: 2_000_000},
	{group: "large", key: "large_64k", title: "large messages 64 KiB, 1 pub → 1 sub (delivered payload)", pubs: 1, subs: 1, size: 64 << 10, msgs: 30_000, mb: true},
	{group: "large", key: "large_1m", title: "large messages 1 MiB, 1 pub → 1 sub (delivered payload)", pubs: 1, subs: 1, size: 1 << 20, msgs: 1_500, mb: true},
}

// delivered is how many messages the subscribers receive in all.
func (l load) delivered() int {
	if l.queue {
		return l.msgs
	}
	return l.msgs * l.subs
}

// loadScenarios returns one scenario per group of loads, in table order.
func (h *harness) loadScenarios() []scenario {
	var out []scenario
	seen := map[string]bool{}
	for _, l := range loads {
		if seen[l.group] {
			continue
		}
		seen[l.group] = true
		group := l.group
		var ls []load
		for _, m := range loads {
			if m.group == group {
				ls = append(ls, m)
			}
		}
		out = append(out, scenario{
			name: group,
			run:  func(k serverKind) error { return h.runLoads(k, group, ls) },
			defs: func() []metricDef { return loadDefs(ls) },
			how: func() string {
				if group != loads[0].group {
					return ""
				}
				return loadsHow()
			},
		})
	}
	return out
}

func loadDefs(ls []load) []metricDef {
	var defs []metricDef
	for _, l := range ls {
		d := metricDef{key: l.key, title: l.title, unit: "msg/s", higher: true, judge: ratioAtLeast(1), limit: loopbackKey(l.size)}
		if l.mb {
			d.unit, d.prec, d.limit = "MB/s", 0, loopbackMBKey(l.size)
		}
		defs = append(defs, d)
	}
	for _, l := range ls {
		defs = append(defs, metricDef{key: l.key + "_cpu", title: "server CPU per delivered message: " + l.title[:strings.Index(l.title, " (")], unit: "ns/msg", judge: ratioAtMost(1)})
	}
	return defs
}

// runLoads runs every load of one group against one fresh server.
func (h *harness) runLoads(k serverKind, group string, ls []load) error {
	s, err := h.start(k, group)
	if err != nil {
		return err
	}
	defer s.stop()
	for i, l := range ls {
		if h.cfg.quick {
			l.msgs /= 10
		}
		var res loadResult
		err := h.try(l.key, fmt.Sprintf("bench.%s.%d", l.key, i), func(subject string) (err error) {
			res, err = h.runLoad(s, l, subject)
			return err
		})
		if err != nil {
			return err
		}
		rate := res.rate
		if l.mb {
			rate = res.rate * float64(l.size) / 1e6
		}
		h.res.add(l.key, k.name, rate)
		if res.cpu >= 0 {
			h.res.add(l.key+"_cpu", k.name, res.cpu)
		}
		logf("    %s: %.0f msg/s delivered (%.0f MB/s), server CPU %.0f ns per delivered message", l.key, res.rate, res.rate*float64(l.size)/1e6, res.cpu)
	}
	return nil
}

// loadResult is one run's figures: delivered messages per second and the
// server's CPU nanoseconds per delivered message (-1 when unknown).
type loadResult struct {
	rate, cpu float64
}

// runLoad runs one load on subject and checks that every subscriber got
// what it should: every message once per subscriber, or once in all for a
// queue group.
func (h *harness) runLoad(s *server, l load, subject string) (loadResult, error) {
	return h.runLoadAcross(s, s, l, subject)
}

// runLoadAcross is runLoad with the publishers on pubSrv and the
// subscribers on subSrv. When they are two servers of one cluster, the
// publishing starts only once pubSrv has the subscribers' interest (see
// routeReady), and the CPU figure is both servers' together.
func (h *harness) runLoadAcross(pubSrv, subSrv *server, l load, subject string) (loadResult, error) {
	goal := int64(l.delivered())
	t := newTally(goal)
	var subs []*lightSub
	defer func() {
		for _, sub := range subs {
			sub.close()
		}
	}()
	for i := range l.subs {
		sub, err := dialLightSub(subSrv.addr(), 64<<10, t.add)
		if err != nil {
			return loadResult{}, fmt.Errorf("subscriber %d: %w", i, err)
		}
		subs = append(subs, sub)
		line := fmt.Sprintf("SUB %s %d\r\n", subject, i+1)
		if l.queue {
			line = fmt.Sprintf("SUB %s q %d\r\n", subject, i+1)
		}
		if err := sub.sync([]byte(line), 10*time.Second); err != nil {
			return loadResult{}, fmt.Errorf("subscriber %d: %w", i, err)
		}
	}
	servers := []*server{subSrv}
	if pubSrv != subSrv {
		// The subscribers' SUBs were answered, so subSrv has sent their
		// interest down the route; a newer subscription's message
		// crossing it means pubSrv has applied the older ones too.
		if err := routeReady(pubSrv, subSrv, 20*time.Second); err != nil {
			return loadResult{}, fmt.Errorf("interest across the route: %w", err)
		}
		servers = append(servers, pubSrv)
	}
	var pubs []*nats.Conn
	defer func() {
		for _, nc := range pubs {
			nc.Close()
		}
	}()
	for i := range l.pubs {
		nc, err := nats.Connect(pubSrv.url(), nats.NoReconnect(), nats.Name("bench-pub"), nats.FlusherTimeout(10*time.Second), nats.Timeout(10*time.Second))
		if err != nil {
			return loadResult{}, fmt.Errorf("publisher %d: %w", i, err)
		}
		pubs = append(pubs, nc)
	}
	payload := bytes.Repeat([]byte("x"), l.size)
	share := l.msgs / l.pubs

	stopProfile := h.profile(subSrv, l.key)
	cpu0, cerr := serversCPU(servers)
	start := time.Now()
	errs := make(chan error, l.pubs)
	var wg sync.WaitGroup
	for _, nc := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range share {
				if err := nc.Publish(subject, payload); err != nil {
					errs <- fmt.Errorf("publish: %w", err)
					return
				}
			}
			if err := nc.FlushTimeout(30 * time.Second); err != nil {
				errs <- fmt.Errorf("flush: %w", err)
			}
		}()
	}
	end, werr := t.wait(60 * time.Second)
	wg.Wait()
	stopProfile()
	close(errs)
	if err := errors.Join(<-errs, werr); err != nil {
		return loadResult{}, err
	}
	for i, sub := range subs {
		if err := sub.sync(nil, 10*time.Second); err != nil {
			return loadResult{}, fmt.Errorf("subscriber %d after the run: %w", i, err)
		}
	}
	cpu1, cerr2 := serversCPU(servers)
	if n := t.n.Load(); n != goal {
		return loadResult{}, fmt.Errorf("%d messages delivered, want %d", n, goal)
	}
	res := loadResult{rate: float64(goal) / end.Sub(start).Seconds(), cpu: -1}
	if cerr == nil && cerr2 == nil {
		res.cpu = float64((cpu1 - cpu0).Nanoseconds()) / float64(goal)
	}
	return res, nil
}

// serversCPU is the CPU time of all the servers together.
func serversCPU(servers []*server) (time.Duration, error) {
	var sum time.Duration
	for _, s := range servers {
		d, err := s.cpuTime()
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

func loadsHow() string {
	var counts []string
	for _, l := range loads {
		counts = append(counts, l.key+" "+commas(l.msgs))
	}
	return "- **Fan-out, fan-in, queue group, large messages**: in the harness, nats.go v1.55.0 publishers (one connection each, `Publish` in a loop, then `Flush`) and light subscribers: raw connections that send `CONNECT`, their `SUB` (with queue group `q` for the queue row) and a `PING`, then count `MSG` frames by their headers and skip the payloads, so that the client side takes as little of the 2 CPUs as it can. " +
		"The figure is messages delivered to all subscribers together (or their payload in MB/s, 10^6 bytes) from the first publish to the last delivery; afterwards a `PING`/`PONG` on every subscriber checks that each got every message once (each message once in all, for the queue group), and the run fails otherwise. " +
		"Messages published per run: " + strings.Join(counts, ", ") + ". Each group of rows runs on one fresh server.\n"
}
