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
	// limit names the loopback metric (see loopback.go) that bounds this
	// one on this machine, in the same unit; "" when none does.
	limit string
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

// row is one metric's line of the report.
type row struct {
	def        metricDef
	title      string
	natsd, ref summary
	ratio      float64
	target     string
	met, judge bool
	limit      summary // the loopback limit, when the metric has one
}

// rows summarises every metric of defs that was measured, in defs' order.
func (r *results) rows(defs []metricDef) []row {
	var out []row
	for _, d := range defs {
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
		if d.limit != "" {
			rw.limit = summarize(r.vals[d.limit][loopbackName])
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
