package main

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Queue-group scenario counts (issue 17): one subject with qgGroups queue
// groups, then qgRounds of (a new queue group on it + a publish to it +
// PING), while an unrelated client does SUB + PUB + PING round trips on
// subjects of its own.
const (
	qgGroups = 20000
	qgRounds = 20
	qgEvery  = 2 * time.Millisecond
)

// queueGroups measures how long qgRounds of (new SUB + PUB + PING) take on
// a subject with qgGroups queue groups, and the median round trip of an
// unrelated client that wants one every qgEvery meanwhile.
func (h *harness) queueGroups(k serverKind) error {
	s, err := h.start(k, "queuegroups")
	if err != nil {
		return err
	}
	defer s.stop()
	groups := qgGroups
	if h.cfg.quick {
		groups = 2000
	}
	// The holder of the groups reads (and drops) everything it is sent.
	holder, err := dialRaw(s.addr())
	if err != nil {
		return err
	}
	defer holder.close()
	for i := range groups {
		fmt.Fprintf(holder.w, "SUB qg g%d %d\r\n", i, i)
	}
	if err := holder.ping(60*time.Second, nil); err != nil {
		return fmt.Errorf("holder: %w", err)
	}
	go io.Copy(io.Discard, holder.nc)

	m, err := dialRaw(s.addr())
	if err != nil {
		return err
	}
	defer m.close()
	m.w.WriteString("PUB qg 1\r\nx\r\n")
	if err := m.ping(30*time.Second, nil); err != nil {
		return err
	}
	h.waitQuiet()

	var (
		stop  atomic.Bool
		mu    sync.Mutex
		rtts  []float64 // µs, of round trips started while the rounds ran
		inWin atomic.Bool
		uerr  error
		wg    sync.WaitGroup
	)
	u, err := dialRaw(s.addr())
	if err != nil {
		return err
	}
	defer u.close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		// One round trip due every qgEvery; each is timed from when it was
		// due, so a round trip held up holds up the ones due meanwhile and
		// they count too (no coordinated omission).
		due := time.Now()
		for i := 0; !stop.Load() && i < 1_000_000; i++ {
			time.Sleep(time.Until(due))
			counted := inWin.Load()
			fmt.Fprintf(u.w, "SUB u.%d 1\r\nPUB u.%d 1\r\nx\r\nUNSUB 1\r\n", i, i)
			if err := u.ping(30*time.Second, nil); err != nil {
				uerr = fmt.Errorf("unrelated client: %w", err)
				return
			}
			if counted && inWin.Load() {
				mu.Lock()
				rtts = append(rtts, float64(time.Since(due).Nanoseconds())/1e3)
				mu.Unlock()
			}
			due = due.Add(qgEvery)
		}
	}()
	inWin.Store(true)
	t0 := time.Now()
	for i := range qgRounds {
		fmt.Fprintf(m.w, "SUB qg new%d %d\r\nPUB qg 1\r\nx\r\n", i, i)
		if err := m.ping(60*time.Second, nil); err != nil {
			stop.Store(true)
			wg.Wait()
			return fmt.Errorf("round %d: %w", i, err)
		}
	}
	took := time.Since(t0)
	inWin.Store(false)
	stop.Store(true)
	wg.Wait()
	if uerr != nil {
		return uerr
	}
	mu.Lock()
	defer mu.Unlock()
	if len(rtts) == 0 {
		return fmt.Errorf("the unrelated client completed no round trip during the %v of rounds", took)
	}
	med := summarize(rtts).median
	h.res.add("qg_rounds", k.name, float64(took.Microseconds())/1000)
	h.res.add("qg_other_rtt", k.name, med)
	h.res.setCount("qg_rounds", groups)
	h.res.setCount("qg_other_rtt", groups)
	logf("    %d groups: %d × (SUB + PUB + PING) in %v; unrelated round trip median %.0f µs (%d samples, max %.0f µs)",
		groups, qgRounds, took.Round(time.Millisecond), med, len(rtts), slices.Max(rtts))
	return nil
}

func queueGroupDefs() []metricDef {
	return []metricDef{
		{key: "qg_rounds", title: fmt.Sprintf("%%s queue groups on one subject: %d × (new queue SUB + PUB + PING)", qgRounds), unit: "ms", prec: 1, judge: ratioAtMost(2)},
		{key: "qg_other_rtt", title: "%s queue groups: an unrelated client's SUB + PUB + PING meanwhile (median)", unit: "µs", prec: 0, judge: ratioAtMost(2)},
	}
}

func queueGroupHow() string {
	return fmt.Sprintf("- **Queue groups** (issue 17): a raw client subscribes to one subject with %s queue groups (one member each) and reads everything it is sent; another does %d rounds of `SUB qg newN N` + `PUB qg` + `PING`, waiting for each PONG (each publish goes to every group); figure: the time of the %d rounds. Meanwhile a third client wants one `SUB u.N` + `PUB u.N` + `UNSUB` + `PING` round trip every %v, each timed from when it was due (so a held-up round trip counts the ones due behind it); figure: the median of those due during the rounds.\n", commas(qgGroups), qgRounds, qgRounds, qgEvery)
}
