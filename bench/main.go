// Command bench measures natsd side by side with nats-server on this
// machine and writes docs/performance.md and docs/performance.tsv.
//
// It is what `make bench` runs. It installs the reference server and CLI at
// pinned versions into .tools/bin (internal/tools) when they are missing, then runs every
// scenario against both servers on 127.0.0.1 with the same flags,
// alternating natsd / nats-server, for a number of rounds. The scenarios
// (scenarios.go lists them; -only picks some by name) are:
//
//   - loopback: the machine's own rate for each frame size the rows use,
//     once per round, shown as the rows' limit column;
//   - throughput with `nats bench`: pub/sub 16 B and 1 KiB (one publisher,
//     one subscriber) and publish only;
//   - fanout, fanin, queue, large (loads.go): nats.go publishers and light
//     raw subscribers, 1 → 10 and 1 → 100, 10 and 50 → 1, a queue group of
//     10, 64 KiB and 1 MiB messages;
//   - reqreply (reqreply.go): request/reply latency percentiles and rate,
//     1 and 10 requesters, and a service of 5 responders in a queue group;
//   - subjects (space.go): 1k → 100k → 1M subscriptions on 10k held
//     connections: memory per subscription, subscribe rate, publish rate;
//   - churn with nats.go (connect, flush, close), sequential and 8 in
//     parallel;
//   - idle memory per connection at 5,000 and 20,000 connections (server
//     VmRSS over its baseline), held by light client processes, and
//     SIGTERM shutdown time with those connections open (signal → exit);
//   - lame duck with 5,000 clients: first close, last close and exit,
//     relative to the signal and to the configured window.
//   - queuegroups (queuegroups.go): one subject with 20,000 queue groups:
//     20 rounds of a new queue group + a publish, and an unrelated client's
//     round trips meanwhile;
//   - connz (connz.go): a connection with 500,000 subscriptions: the
//     latency to another of its subscriptions, quiet and while /connz is
//     scraped, and the scrape rate.
//
// Every load loop is bounded in count and time and targets loopback only.
// The same binary, run as `bench holder ...`, is the client process that
// holds idle connections (see holder.go).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/natsd/natsd/internal/tools"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "holder" {
		os.Exit(holderMain(os.Args[2:]))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is the harness's command line.
type config struct {
	rounds   int
	natsd    string // natsd binary
	toolsDir string // where the pinned tools live
	outDir   string // where performance.md and .tsv go
	workDir  string // logs, config files
	only     map[string]bool
	quick    bool
	micro    bool
	profile  bool
	conns    []int
	space    []int // subject-space sizes
}

func run() error {
	var cfg config
	var only, conns, space string
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds; each runs every scenario on both servers")
	flag.StringVar(&cfg.natsd, "natsd", "bin/natsd", "natsd binary (built by make bench)")
	flag.StringVar(&cfg.toolsDir, "tools", ".tools/bin", "folder of the pinned nats-server and nats CLI (installed when missing; see internal/tools)")
	flag.StringVar(&cfg.outDir, "out", "docs", "folder for performance.md and performance.tsv")
	flag.StringVar(&cfg.workDir, "work", ".bench/run", "folder for server logs and config files")
	flag.StringVar(&only, "only", "", "comma-separated scenarios to run ("+scenarioNames()+"); default all; the other rows are carried over from the earlier performance.tsv")
	flag.StringVar(&conns, "conns", "5000,20000", "idle connection counts for memory and SIGTERM")
	flag.BoolVar(&cfg.quick, "quick", false, "smaller counts and 1 round, for a smoke run (the report says so)")
	flag.BoolVar(&cfg.micro, "micro", true, "run the Go micro-benchmarks too")
	flag.BoolVar(&cfg.profile, "profile", false, "run natsd with --profile and save a CPU profile of it during each load row into WORK/profiles (a diagnostic run: natsd's flags then differ)")
	flag.StringVar(&space, "space", "1000,100000,1000000", "subject-space sizes (subscriptions), growing; -quick stops at 100000 unless this is given")
	flag.Parse()
	if only != "" {
		cfg.only = map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			cfg.only[strings.TrimSpace(s)] = true
		}
	}
	for _, s := range strings.Split(conns, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(s), &n); err != nil || n <= 0 {
			return fmt.Errorf("bad -conns %q", conns)
		}
		cfg.conns = append(cfg.conns, n)
	}
	spaceSet := false
	flag.Visit(func(f *flag.Flag) { spaceSet = spaceSet || f.Name == "space" })
	for _, s := range strings.Split(space, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(s), &n); err != nil || n < spaceGroup {
			return fmt.Errorf("bad -space %q: sizes of at least %d", space, spaceGroup)
		}
		if cfg.quick && !spaceSet && n > 100_000 {
			continue
		}
		cfg.space = append(cfg.space, n)
	}
	if cfg.quick {
		cfg.rounds = 1
	}
	if cfg.rounds < 1 {
		return fmt.Errorf("-rounds must be at least 1")
	}
	raiseNoFile()
	for _, d := range []string{cfg.outDir, cfg.workDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	var err error
	if cfg.toolsDir, err = filepath.Abs(cfg.toolsDir); err != nil {
		return err
	}
	if cfg.natsd, err = filepath.Abs(cfg.natsd); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.natsd); err != nil {
		return fmt.Errorf("natsd binary: %w (run make build first)", err)
	}
	if err := tools.InstallAll(cfg.toolsDir, logf); err != nil {
		return err
	}

	started := time.Now()
	servers := []serverKind{
		{name: "natsd", bin: cfg.natsd},
		{name: "nats-server", bin: filepath.Join(cfg.toolsDir, "nats-server")},
	}
	res := newResults()
	h := &harness{cfg: cfg, res: res, nats: filepath.Join(cfg.toolsDir, "nats")}
	if err := h.writeConf(); err != nil {
		return err
	}
	for r := 0; r < cfg.rounds; r++ {
		// Alternate which server goes first, so drift over the run
		// (thermal, page cache, TIME_WAIT sockets) does not favour one.
		order := []serverKind{servers[0], servers[1]}
		if r%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		logf("round %d/%d", r+1, cfg.rounds)
		for _, sc := range h.scenarios() {
			if !h.selected(sc) {
				continue
			}
			if sc.once {
				logf("  %s", sc.name)
				if err := sc.run(serverKind{}); err != nil {
					return fmt.Errorf("%s, round %d: %w", sc.name, r+1, err)
				}
				continue
			}
			for _, k := range order {
				logf("  %s on %s", sc.name, k.name)
				if err := sc.run(k); err != nil {
					return fmt.Errorf("%s on %s, round %d: %w", sc.name, k.name, r+1, err)
				}
			}
		}
	}
	var micro []microResult
	if cfg.micro {
		logf("Go micro-benchmarks")
		if micro, err = runMicro(); err != nil {
			return err
		}
	}
	if cfg.only != nil {
		res.carried = res.carryOver(filepath.Join(cfg.outDir, "performance.tsv"))
	}
	elapsed := time.Since(started)
	if err := writeReport(h, micro, elapsed); err != nil {
		return err
	}
	logf("done in %v: %s", elapsed.Round(time.Second), filepath.Join(cfg.outDir, "performance.md"))
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
