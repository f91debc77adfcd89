package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Churn counts: each client connects with nats.go, flushes (a PING/PONG
// round trip) and closes.
const (
	churnSeq      = 3000
	churnParallel = 8
	churnPerPar   = 1000
	churnWarmup   = 200
)

// churn measures connections per second, one at a time and 8 at a time,
// against one fresh server.
func (h *harness) churn(k serverKind) error {
	s, err := h.start(k, "churn")
	if err != nil {
		return err
	}
	defer s.stop()
	seq, per := churnSeq, churnPerPar
	if h.cfg.quick {
		seq, per = seq/10, per/10
	}
	if _, err := churnLoop(s.url(), 1, churnWarmup); err != nil {
		return err
	}
	h.waitQuiet()
	rate, err := churnLoop(s.url(), 1, seq)
	if err != nil {
		return err
	}
	h.res.add("churn_seq", k.name, rate)
	logf("    sequential: %.0f connections/s", rate)
	h.waitQuiet()
	rate, err = churnLoop(s.url(), churnParallel, per)
	if err != nil {
		return err
	}
	h.res.add("churn_par8", k.name, rate)
	logf("    8 parallel: %.0f connections/s", rate)
	return nil
}

// churnLoop runs workers goroutines, each doing n connect + flush + close
// cycles, and returns the completed cycles per second.
func churnLoop(url string, workers, n int) (float64, error) {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				nc, err := nats.Connect(url, nats.NoReconnect(), nats.Timeout(10*time.Second), nats.Name("bench-churn"))
				if err != nil {
					errs <- fmt.Errorf("connect %d: %w", i, err)
					return
				}
				err = nc.FlushTimeout(10 * time.Second)
				nc.Close()
				if err != nil {
					errs <- fmt.Errorf("flush %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(workers*n) / d.Seconds(), nil
}

func churnDefs() []metricDef {
	return []metricDef{
		{key: "churn_seq", title: "churn: nats.go connect + flush + close, sequential", unit: "conn/s", higher: true, judge: ratioAtLeast(1)},
		{key: "churn_par8", title: "churn: nats.go connect + flush + close, 8 in parallel", unit: "conn/s", higher: true, judge: ratioAtLeast(1)},
	}
}

func churnHow() string {
	return fmt.Sprintf("- **Churn**: nats.go v1.55.0 in the harness: `nats.Connect` (which already does a PING/PONG), `Flush`, `Close`, %d times in a row, then %d goroutines × %d, after %d warm-up cycles.\n", churnSeq, churnParallel, churnPerPar, churnWarmup)
}
