package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// A reqLoad is one request/reply job: requesters nats.go connections each
// send reqs requests one after another (nc.Request, so through nats.go's
// shared reply subscription) to a subject served by responders nats.go
// connections, in one queue group when queue is set, each answering every
// request it gets with msg.Respond. Its figures are requests per second
// over all requesters, the latency percentiles over every request, and
// the server's CPU per request.
type reqLoad struct {
	key        string
	title      string
	requesters int
	responders int
	queue      bool
	reqs       int // per requester
}

// reqLoads are the request/reply rows; a new row is one more line.
var reqLoads = []reqLoad{
	{key: "req_1", title: "request/reply 16 B, 1 requester → 1 responder", requesters: 1, responders: 1, reqs: 20_000},
	{key: "req_10", title: "request/reply 16 B, 10 concurrent requesters → 1 responder", requesters: 10, responders: 1, reqs: 3_000},
	{key: "req_svc5", title: "request/reply 16 B, 10 concurrent requesters → a service of 5 responders (queue group)", requesters: 10, responders: 5, queue: true, reqs: 3_000},
}

// reqWarmup is how many requests each requester sends before the timed ones.
const reqWarmup = 200

// reqPercentiles are the latency rows of each reqLoad, with their key
// suffixes.
var reqPercentiles = []struct {
	suffix string
	p      float64
}{{"_p50", 50}, {"_p90", 90}, {"_p99", 99}, {"_p999", 99.9}}

func reqReplyDefs() []metricDef {
	var defs []metricDef
	for _, l := range reqLoads {
		defs = append(defs, metricDef{key: l.key, title: l.title + ": requests per second", unit: "req/s", higher: true, judge: ratioAtLeast(1)})
		for _, p := range reqPercentiles {
			defs = append(defs, metricDef{key: l.key + p.suffix, title: fmt.Sprintf("%s: latency p%g", l.title, p.p), unit: "µs", prec: 0, judge: ratioAtMost(1)})
		}
		defs = append(defs, metricDef{key: l.key + "_cpu", title: l.title + ": server CPU per request", unit: "ns/req", judge: ratioAtMost(1)})
	}
	return defs
}

// reqReply runs every reqLoad against one fresh server.
func (h *harness) reqReply(k serverKind) error {
	s, err := h.start(k, "reqreply")
	if err != nil {
		return err
	}
	defer s.stop()
	for i, l := range reqLoads {
		if h.cfg.quick {
			l.reqs /= 10
		}
		h.waitQuiet()
		r, err := h.runReqLoad(s, l, fmt.Sprintf("bench.%s.%d", l.key, i))
		if err != nil {
			return fmt.Errorf("%s: %w", l.key, err)
		}
		h.res.add(l.key, k.name, r.rate)
		for j, p := range reqPercentiles {
			h.res.add(l.key+p.suffix, k.name, r.lat[j])
		}
		if r.cpu >= 0 {
			h.res.add(l.key+"_cpu", k.name, r.cpu)
		}
		logf("    %s: %.0f req/s, p50 %.0f µs, p90 %.0f µs, p99 %.0f µs, p99.9 %.0f µs, server CPU %.0f ns/req",
			l.key, r.rate, r.lat[0], r.lat[1], r.lat[2], r.lat[3], r.cpu)
	}
	return nil
}

// reqResult is one run's figures: requests per second, the latency
// percentiles in reqPercentiles' order (µs) and the server's CPU
// nanoseconds per request (-1 when unknown).
type reqResult struct {
	rate float64
	lat  []float64
	cpu  float64
}

func (h *harness) runReqLoad(s *server, l reqLoad, subject string) (reqResult, error) {
	var conns []*nats.Conn
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	connect := func(name string) (*nats.Conn, error) {
		nc, err := nats.Connect(s.url(), nats.NoReconnect(), nats.Name(name), nats.Timeout(10*time.Second), nats.FlusherTimeout(10*time.Second))
		if err == nil {
			conns = append(conns, nc)
		}
		return nc, err
	}
	payload := bytes.Repeat([]byte("x"), 16)
	for i := range l.responders {
		nc, err := connect("bench-responder")
		if err != nil {
			return reqResult{}, fmt.Errorf("responder %d: %w", i, err)
		}
		reply := func(m *nats.Msg) { m.Respond(payload) }
		if l.queue {
			_, err = nc.QueueSubscribe(subject, "svc", reply)
		} else {
			_, err = nc.Subscribe(subject, reply)
		}
		if err == nil {
			err = nc.FlushTimeout(10 * time.Second)
		}
		if err != nil {
			return reqResult{}, fmt.Errorf("responder %d: %w", i, err)
		}
	}
	reqs := make([]*nats.Conn, l.requesters)
	for i := range reqs {
		nc, err := connect("bench-requester")
		if err != nil {
			return reqResult{}, fmt.Errorf("requester %d: %w", i, err)
		}
		reqs[i] = nc
		for j := range reqWarmup {
			if _, err := nc.Request(subject, payload, 10*time.Second); err != nil {
				return reqResult{}, fmt.Errorf("requester %d, warm-up request %d: %w", i, j, err)
			}
		}
	}

	lats := make([][]time.Duration, l.requesters)
	errs := make(chan error, l.requesters)
	var ready, wg sync.WaitGroup
	trigger := make(chan struct{})
	for i, nc := range reqs {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := make([]time.Duration, 0, l.reqs)
			ready.Done()
			<-trigger
			for j := range l.reqs {
				t0 := time.Now()
				if _, err := nc.Request(subject, payload, 10*time.Second); err != nil {
					errs <- fmt.Errorf("requester %d, request %d: %w", i, j, err)
					return
				}
				own = append(own, time.Since(t0))
			}
			lats[i] = own
		}()
	}
	ready.Wait()
	stopProfile := h.profile(s, l.key)
	cpu0, cerr := s.cpuTime()
	start := time.Now()
	close(trigger)
	wg.Wait()
	d := time.Since(start)
	cpu1, cerr2 := s.cpuTime()
	stopProfile()
	close(errs)
	if err := errors.Join(<-errs); err != nil {
		return reqResult{}, err
	}
	var all []time.Duration
	for _, own := range lats {
		all = append(all, own...)
	}
	slices.Sort(all)
	r := reqResult{rate: float64(len(all)) / d.Seconds(), cpu: -1}
	for _, p := range reqPercentiles {
		r.lat = append(r.lat, float64(percentile(all, p.p).Nanoseconds())/1000)
	}
	if cerr == nil && cerr2 == nil {
		r.cpu = float64((cpu1 - cpu0).Nanoseconds()) / float64(len(all))
	}
	return r, nil
}

// percentile returns the p-th percentile of sorted (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// The epsilon keeps 99.9/100 × 1000 (999.0000000000001) at rank 999.
	i := int(math.Ceil(p/100*float64(len(sorted))-1e-9)) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func reqReplyHow() string {
	var counts []string
	for _, l := range reqLoads {
		counts = append(counts, fmt.Sprintf("%s %d × %s", l.key, l.requesters, commas(l.reqs)))
	}
	return fmt.Sprintf("- **Request/reply**: nats.go v1.55.0 in the harness. Responders subscribe (the service row: `QueueSubscribe` in group `svc`) and answer each request with `msg.Respond` of 16 B; each requester is its own connection and sends one `nc.Request` (16 B, nats.go's shared reply subscription) after another, %d warm-up requests first. Latency: from just before `Request` to its return, every request of every requester pooled, nearest-rank percentiles; requests per second: all requests over the time from the start signal to the last reply. Requests per run (requesters × requests): %s.\n",
		reqWarmup, strings.Join(counts, ", "))
}
