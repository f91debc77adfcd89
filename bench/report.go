package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// writeReport writes performance.md (for people) and performance.tsv (for
// programs) into the output folder.
func writeReport(h *harness, micro []microResult, elapsed time.Duration) error {
	cfg, res := h.cfg, h.res
	rows := res.rows(h.allDefs())
	if err := os.WriteFile(filepath.Join(cfg.outDir, "performance.tsv"), []byte(tsv(rows)), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cfg.outDir, "performance.md"), []byte(markdown(h, rows, micro, elapsed)), 0o644)
}

func num(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if prec == 0 && v >= 10000 {
		n, _ := strconv.Atoi(s)
		return commas(n)
	}
	return s
}

func markdown(h *harness, rows []row, micro []microResult, elapsed time.Duration) string {
	cfg, res := h.cfg, h.res
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Performance: natsd beside nats-server\n\n")
	p("Written by `make bench` (`bench/`) on %s; the run took %v.", time.Now().UTC().Format("2006-01-02 15:04 MST"), elapsed.Round(time.Second))
	if cfg.quick {
		p(" **Quick smoke run: reduced counts and one round; not for comparison.**")
	}
	if cfg.profile {
		p(" **Diagnostic run: natsd ran with `--profile` and was profiled during the load rows; not for comparison.**")
	}
	p(" Do not edit by hand: run `make bench` again.\n\n")
	p("## Machine\n\n%s", machine())
	if bg := summarize(res.background); bg.n > 0 {
		p("- Other work on the machine just before each of the %d measurements (share of all CPUs busy, sampled %v; the harness waits up to %v for it to fall under %.0f%%): median %.0f%%, max %.0f%%\n",
			bg.n, quietSample, quietMaxWait, 100*quietBusy, 100*bg.median, 100*bg.max)
	}
	p("\n")
	p("## Results\n\n")
	p("%d round(s); in each round every scenario runs on natsd and on nats-server v2.15.2, alternating which goes first. ", cfg.rounds)
	p("Both servers run on 127.0.0.1 with the same flags (`-a 127.0.0.1 -p PORT -c bench.conf`, the config setting only `lame_duck_duration: \"%v\"` and `lame_duck_grace_period: \"%v\"`), with `bench-natsd` / `bench-nats-server` as argv[0] so that no `natsd --signal CMD=*` run elsewhere on the machine reaches them. ", lameDuckDuration, lameDuckGrace)
	p("Medians, with the range over rounds; the ratio is natsd's median over nats-server's. ")
	p("The limit, where a row has one, is the median rate at which this machine carries the same frames over one loopback TCP connection with no server between (see below), with natsd's median as a share of it.\n\n")
	p("| measure | unit | natsd | nats-server | natsd / nats-server | target | met | loopback limit (natsd share) |\n")
	p("|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		pr := r.def.prec
		cell := func(s summary) string {
			if s.n == 0 {
				return "—"
			}
			return fmt.Sprintf("%s (%s – %s)", num(s.median, pr), num(s.min, pr), num(s.max, pr))
		}
		ratio := "—"
		if r.ref.n > 0 && r.ratio != 0 {
			ratio = fmt.Sprintf("%.2f×", r.ratio)
		}
		target, met := "—", "—"
		if r.judge {
			target = r.target
			met = "no"
			if r.met {
				met = "yes"
			}
		}
		limit := "—"
		if r.limit.n > 0 && r.limit.median > 0 {
			limit = fmt.Sprintf("%s (%.0f%%)", num(r.limit.median, pr), 100*r.natsd.median/r.limit.median)
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.title, r.def.unit, cell(r.natsd), cell(r.ref), ratio, target, met, limit)
	}
	p("\n")
	p("%s", h.growthTables())
	if len(micro) > 0 {
		p("## Go micro-benchmarks (natsd)\n\n")
		p("`go test -run '^$' -bench . -benchmem -benchtime %s %s`\n\n", microBenchtime, strings.Join(microPkgs, " "))
		p("| benchmark | ns/op | B/op | allocs/op | other |\n|---|---|---|---|---|\n")
		for _, m := range micro {
			p("| %s `%s` | %s | %s | %s | %s |\n", m.pkg, m.name, m.nsOp, m.bOp, m.allocsOp, m.other)
		}
		p("\n")
	}
	p("## How each figure is measured\n\n")
	for _, sc := range h.scenarios() {
		if sc.how != nil {
			p("%s", sc.how())
		}
	}
	if len(res.carried) > 0 {
		p("- Rows carried over from the previous run (this run measured only `%s`): %s.\n", strings.Join(onlyNames(cfg), ","), strings.Join(res.carried, ", "))
	}
	p("- Every load loop is bounded in count and time, and every connection targets 127.0.0.1.\n")
	return b.String()
}

// machine describes the host from /proc/cpuinfo, nproc, /proc/meminfo and
// the kernel and Go versions.
func machine() string {
	var b strings.Builder
	model, cpus := "unknown", 0
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				model = strings.TrimSpace(v)
			case "processor":
				cpus++
			}
		}
	}
	nproc := strconv.Itoa(runtime.NumCPU())
	if out, err := exec.Command("nproc").Output(); err == nil {
		nproc = strings.TrimSpace(string(out))
	}
	mem := "unknown"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					kb, _ := strconv.ParseFloat(f[0], 64)
					mem = fmt.Sprintf("%.1f GiB", kb/(1<<20))
				}
			}
		}
	}
	kernel := "unknown"
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(data))
	}
	fmt.Fprintf(&b, "- CPU: %s; %d processor(s) in /proc/cpuinfo; `nproc`: %s\n", model, cpus, nproc)
	fmt.Fprintf(&b, "- Memory: %s; Linux %s; open-file limit (hard): %d\n", mem, kernel, hardNoFile())
	fmt.Fprintf(&b, "- Go: %s (natsd, nats-server and the harness are built with it)\n", runtime.Version())
	return b.String()
}

// tsv is one line per metric: the summaries, the ratio, the target and
// every round's value.
func tsv(rows []row) string {
	var b strings.Builder
	b.WriteString("metric\ttitle\tunit\thigher_is_better\tnatsd_median\tnatsd_min\tnatsd_max\tnats_server_median\tnats_server_min\tnats_server_max\tratio\ttarget\tmet\tnatsd_rounds\tnats_server_rounds\tloopback_limit_median\n")
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	list := func(vs []float64) string {
		s := make([]string, len(vs))
		for i, v := range vs {
			s[i] = f(v)
		}
		return strings.Join(s, ",")
	}
	for _, r := range rows {
		met := ""
		if r.judge {
			met = strconv.FormatBool(r.met)
		}
		limit := ""
		if r.limit.n > 0 {
			limit = f(r.limit.median)
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%t\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.def.key, r.title, r.def.unit, r.def.higher,
			f(r.natsd.median), f(r.natsd.min), f(r.natsd.max),
			f(r.ref.median), f(r.ref.min), f(r.ref.max),
			f(r.ratio), r.target, met, list(r.natsd.vals), list(r.ref.vals), limit)
	}
	return b.String()
}
