package main

import (
	"fmt"
	"slices"
	"strings"
)

// results holds every measured value, per metric and server, in the order
// measured (one per round).
type results struct {
	vals   map[string]map[string][]float64
	counts map[string]int // connections actually used, for connection-count metrics
	// titles holds the titles of rows carried over from an earlier run.
	titles map[string]string
	// carried lists the metrics carried over from an earlier run.
	carried []string
	// background is how busy the CPUs were with other work just before
	// each measurement (a fraction of all CPUs).
	background []float64
}

func newResults() *results {
	return &results{vals: map[string]map[string][]float64{}, counts: map[string]int{}}
}

func (r *results) add(key, server string, v float64) {
	if r.vals[key] == nil {
		r.vals[key] = map[string][]float64{}
	}
	r.vals[key][server] = append(r.vals[key][server], v)
}

func (r *results) setCount(key string, n int) { r.counts[key] = n }

// summary is the median and range of one server's values for one metric.
type summary struct {
	n                int
	median, min, max float64
	vals             []float64
}

func summarize(vals []float64) summary {
	if len(vals) == 0 {
		return summary{}
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{n: len(s), median: med, min: s[0], max: s[len(s)-1], vals: vals}
}

// metricDef says how one metric is titled, formatted and judged.
type metricDef struct {
	key    string
	title  string
	unit   string
	higher bool // higher is better
	prec   int  // decimals shown
	// judge returns the target text and whether natsd met it; ok is false
	// when the metric has no target.
	judge func(natsd, ref summary, ratio float64) (target string, met, ok bool)
}

func ratioAtLeast(x float64) func(summary, summary, float64) (string, bool, bool) {
	return func(_, _ summary, ratio float64) (string, bool, bool) {
		return fmt.Sprintf("≥ %.2f×", x), ratio >= x, true
	}
}

func ratioAtMost(x float64) func(summary, summary, float64) (string, bool, bool) {
	return func(_, _ summary, ratio float64) (string, bool, bool) {
		return fmt.Sprintf("≤ %.2f×", x), ratio <= x, true
	}
}

// lastTenth: natsd's last lame-duck close lies in the last 10% of the
// window in every round.
func lastTenth(natsd, _ summary, _ float64) (string, bool, bool) {
	return "natsd in [90, 100] % every round", natsd.n > 0 && natsd.min >= 90 && natsd.max <= 100, true
}

func metricDefs(conns []int) []metricDef {
	defs := []metricDef{
		{key: "pubsub_16b", title: "pub/sub 16 B, 1 pub → 1 sub (subscriber rate)", unit: "msg/s", higher: true, judge: ratioAtLeast(1)},
		{key: "pubsub_1k", title: "pub/sub 1 KiB, 1 pub → 1 sub (subscriber rate)", unit: "msg/s", higher: true, judge: ratioAtLeast(1)},
		{key: "pub_16b", title: "publish only 16 B", unit: "msg/s", higher: true, judge: ratioAtLeast(1)},
		{key: "pub_1k", title: "publish only 1 KiB", unit: "msg/s", higher: true, judge: ratioAtLeast(1)},
		{key: "pubsub_16b_cpu", title: "server CPU per message: pub/sub 16 B", unit: "ns/msg"},
		{key: "pubsub_1k_cpu", title: "server CPU per message: pub/sub 1 KiB", unit: "ns/msg"},
		{key: "pub_16b_cpu", title: "server CPU per message: publish only 16 B", unit: "ns/msg"},
		{key: "pub_1k_cpu", title: "server CPU per message: publish only 1 KiB", unit: "ns/msg"},
		{key: "churn_seq", title: "churn: nats.go connect + flush + close, sequential", unit: "conn/s", higher: true, judge: ratioAtLeast(1)},
		{key: "churn_par8", title: "churn: nats.go connect + flush + close, 8 in parallel", unit: "conn/s", higher: true, judge: ratioAtLeast(1)},
	}
	for _, n := range conns {
		defs = append(defs, metricDef{key: fmt.Sprintf("idle_mem_%d", n), title: "idle memory per connection, %s connections (RSS over baseline)", unit: "KiB/conn", prec: 1, judge: ratioAtMost(0.75)})
	}
	for i, n := range conns {
		d := metricDef{key: fmt.Sprintf("sigterm_%d", n), title: "SIGTERM → exit, %s idle connections", unit: "ms", prec: 0}
		if i == len(conns)-1 {
			d.judge = ratioAtMost(0.5)
		}
		defs = append(defs, d)
	}
	for _, n := range conns {
		defs = append(defs, metricDef{key: fmt.Sprintf("sigterm_%d_cpu", n), title: "server CPU from SIGTERM to exit, %s idle connections", unit: "ms", prec: 0})
	}
	ld := fmt.Sprintf("%d", ldClients)
	defs = append(defs,
		metricDef{key: "ld_first", title: "lame duck, " + ld + " clients: first close after the signal", unit: "s", prec: 2},
		metricDef{key: "ld_last", title: "lame duck, " + ld + " clients: last close after the signal", unit: "s", prec: 2},
		metricDef{key: "ld_exit", title: "lame duck, " + ld + " clients: process exit after the signal", unit: "s", prec: 2},
		metricDef{key: "ld_first_pct", title: "lame duck: first close, % of the close window", unit: "%", prec: 1},
		metricDef{key: "ld_last_pct", title: "lame duck: last close, % of the close window", unit: "%", prec: 1, judge: lastTenth},
		metricDef{key: "qg_rounds", title: fmt.Sprintf("%%s queue groups on one subject: %d × (new queue SUB + PUB + PING)", qgRounds), unit: "ms", prec: 1, judge: ratioAtMost(2)},
		metricDef{key: "qg_other_rtt", title: "%s queue groups: an unrelated client's SUB + PUB + PING meanwhile (median)", unit: "µs", prec: 0, judge: ratioAtMost(2)},
		metricDef{key: "connz_lat_quiet", title: "%s subscriptions on one connection: latency to another of its subscriptions, quiet (median)", unit: "µs", prec: 0},
		metricDef{key: "connz_lat", title: "%s subscriptions on one connection: that latency while /connz is scraped (median)", unit: "µs", prec: 0, judge: ratioAtMost(2)},
		metricDef{key: "connz_scrapes", title: "%s subscriptions on one connection: /connz answered", unit: "req/s", higher: true, prec: 0, judge: ratioAtLeast(0.5)},
	)
	return defs
}

// row is one metric's line of the report.
type row struct {
	def        metricDef
	title      string
	natsd, ref summary
	ratio      float64
	target     string
	met, judge bool
}

func (r *results) rows(conns []int) []row {
	var out []row
	for _, d := range metricDefs(conns) {
		v, ok := r.vals[d.key]
		if !ok {
			continue
		}
		rw := row{def: d, title: d.title, natsd: summarize(v["natsd"]), ref: summarize(v["nats-server"])}
		if t, ok := r.titles[d.key]; ok {
			rw.title = t
		} else if strings.Contains(d.title, "%s") {
			n, ok := r.counts[d.key]
			c := "?"
			if ok {
				c = commas(n)
			}
			rw.title = fmt.Sprintf(d.title, c)
		}
		if rw.ref.median != 0 {
			rw.ratio = rw.natsd.median / rw.ref.median
		}
		if d.judge != nil {
			rw.target, rw.met, rw.judge = d.judge(rw.natsd, rw.ref, rw.ratio)
		}
		out = append(out, rw)
	}
	return out
}

// commas formats n with thousands separators.
func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
