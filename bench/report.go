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
func writeReport(cfg config, res *results, micro []microResult, elapsed time.Duration) error {
	rows := res.rows(cfg.conns)
	if err := os.WriteFile(filepath.Join(cfg.outDir, "performance.tsv"), []byte(tsv(rows)), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cfg.outDir, "performance.md"), []byte(markdown(cfg, res, rows, micro, elapsed)), 0o644)
}

func num(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if prec == 0 && v >= 10000 {
		n, _ := strconv.Atoi(s)
		return commas(n)
	}
	return s
}

func markdown(cfg config, res *results, rows []row, micro []microResult, elapsed time.Duration) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Performance: natsd beside nats-server\n\n")
	p("Written by `make bench` (`bench/`) on %s; the run took %v.", time.Now().UTC().Format("2006-01-02 15:04 MST"), elapsed.Round(time.Second))
	if cfg.quick {
		p(" **Quick smoke run: reduced counts and one round; not for comparison.**")
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
	p("Medians, with the range over rounds; the ratio is natsd's median over nats-server's.\n\n")
	p("| measure | unit | natsd | nats-server | natsd / nats-server | target | met |\n")
	p("|---|---|---|---|---|---|---|\n")
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
		p("| %s | %s | %s | %s | %s | %s | %s |\n", r.title, r.def.unit, cell(r.natsd), cell(r.ref), ratio, target, met)
	}
	p("\n")
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
	p("- **Throughput**: `nats bench` (natscli v0.5.0). Pub/sub starts `nats bench sub SUBJ --msgs N --size S` in the background, waits until it reports that it is subscribing, then runs `nats bench pub` with the same arguments; the figure is the subscriber's rate (first to last message received). Publish only runs `nats bench pub` alone; the figure is the publisher's rate. Counts: %s.\n", tpCounts())
	p("- **Server CPU**: user + system time of the server process (all threads) from `/proc/PID/stat` before and after each throughput run, per message; for SIGTERM, from just before the signal to the exit (`wait`'s rusage). On a shared 2-core machine rates move with whatever else runs; the server's own CPU hardly does, so these rows say which server does less work for the same job.\n")
	p("- **Churn**: nats.go v1.55.0 in the harness: `nats.Connect` (which already does a PING/PONG), `Flush`, `Close`, %d times in a row, then %d goroutines × %d, after %d warm-up cycles.\n", churnSeq, churnParallel, churnPerPar, churnWarmup)
	p("- **Idle memory**: a fresh server; VmRSS from `/proc/PID/status` 1 s after it is ready is the baseline; client processes (this harness re-run as `holder`, %d connections each) open raw TCP connections that send `CONNECT {...,\"protocol\":1}` and `PING` and wait for the `PONG`; 2 s after the last one, VmRSS again. Figure: (RSS − baseline) / connections.\n", perHolder)
	p("- **SIGTERM**: with those connections still open, SIGTERM to the server; figure: signal sent → the harness's `wait` on the process returns. The client processes do not read while the server shuts down (so they take no CPU from it, as clients on other machines would not); after the exit they check that the server closed every connection, and the run fails otherwise.\n")
	p("- **Lame duck**: %d held connections (one client process); SIGUSR2 to the server; the client records, per connection, when the server closed it. The close window is the duration minus the grace period (%v − %v = %v), starting %v after the signal; a close at %v + x is x / window percent of it. The target asks for the last close in the last 10%% of the window (nats-server closes clients at a random point in half-to-whole of each interval, so its last close lands near 60–70%%).\n",
		ldClients, lameDuckDuration, lameDuckGrace, lameDuckDuration-lameDuckGrace, lameDuckGrace, lameDuckGrace)
	if hard := hardNoFile(); hard > 0 && hard < 20100 {
		p("- **Open-file limit**: this machine's hard RLIMIT_NOFILE is %d and only a process with CAP_SYS_RESOURCE may raise it, so no server here can hold 20,000 sockets plus its own files. The \"20,000\" scenarios use %s connections, the most that fits; the harness raises each process's soft limit to the hard one (Go servers do so themselves), and splits the client side over processes of %d connections.\n",
			hard, commas(idleCount(20000)), perHolder)
	}
	p("- **Queue groups** (issue 17): a raw client subscribes to one subject with %s queue groups (one member each) and reads everything it is sent; another does %d rounds of `SUB qg newN N` + `PUB qg` + `PING`, waiting for each PONG (each publish goes to every group); figure: the time of the %d rounds. Meanwhile a third client wants one `SUB u.N` + `PUB u.N` + `UNSUB` + `PING` round trip every %v, each timed from when it was due (so a held-up round trip counts the ones due behind it); figure: the median of those due during the rounds.\n", commas(qgGroups), qgRounds, qgRounds, qgEvery)
	p("- **/connz under load** (issue 17): one raw client holds %s subscriptions (`s.N`) and one on `lat`; a publisher sends `lat` its send time every %v. Figures: the median latency (send → read by the subscriber) over %v without scrapes, then over %v while one client requests `/connz` (no `subs=1`) back to back, and those requests per second.\n", commas(connzSubs), connzEvery, connzQuiet, connzScrape)
	if len(res.carried) > 0 {
		p("- Rows carried over from the previous run (this run measured only `%s`): %s.\n", strings.Join(onlyNames(cfg), ","), strings.Join(res.carried, ", "))
	}
	p("- Every load loop is bounded in count and time, and every connection targets 127.0.0.1.\n")
	return b.String()
}

func tpCounts() string {
	var s []string
	for _, r := range tpRuns {
		s = append(s, fmt.Sprintf("%s %s messages", r.key, commas(r.msgs)))
	}
	return strings.Join(s, ", ")
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
	b.WriteString("metric\ttitle\tunit\thigher_is_better\tnatsd_median\tnatsd_min\tnatsd_max\tnats_server_median\tnats_server_min\tnats_server_max\tratio\ttarget\tmet\tnatsd_rounds\tnats_server_rounds\n")
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
		fmt.Fprintf(&b, "%s\t%s\t%s\t%t\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.def.key, r.title, r.def.unit, r.def.higher,
			f(r.natsd.median), f(r.natsd.min), f(r.natsd.max),
			f(r.ref.median), f(r.ref.min), f(r.ref.max),
			f(r.ratio), r.target, met, list(r.natsd.vals), list(r.ref.vals))
	}
	return b.String()
}
