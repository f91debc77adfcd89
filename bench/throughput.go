package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A throughput run: `nats bench pub` with or without one `nats bench sub`.
type tpRun struct {
	key  string
	size int
	msgs int
	sub  bool
	args []string // extra `nats` flags, e.g. credentials
}

// Message counts are chosen so that each run lasts one to three seconds on
// this 2-core machine.
var tpRuns = []tpRun{
	{"pubsub_16b", 16, 2_000_000, true, nil},
	{"pubsub_1k", 1024, 600_000, true, nil},
	{"pub_16b", 16, 3_000_000, false, nil},
	{"pub_1k", 1024, 1_000_000, false, nil},
}

// throughput runs every tpRun against one fresh server.
func (h *harness) throughput(k serverKind) error {
	s, err := h.start(k, "throughput")
	if err != nil {
		return err
	}
	defer s.stop()
	for i, r := range tpRuns {
		if h.cfg.quick {
			r.msgs /= 10
		}
		var rate float64
		var cpu0 time.Duration
		var cerr error
		stopProfile := h.profile(s, r.key)
		err := h.try(r.key, fmt.Sprintf("bench.%s.%d", r.key, i), func(subject string) (err error) {
			cpu0, cerr = s.cpuTime()
			rate, err = h.natsBench(s, r, subject)
			return err
		})
		stopProfile()
		if err != nil {
			return err
		}
		h.res.add(r.key, k.name, rate)
		// The server's own CPU per message: unlike the rate, it hardly
		// moves when other work shares the machine.
		cpu1, cerr2 := s.cpuTime()
		perMsg := 0.0
		if cerr == nil && cerr2 == nil {
			perMsg = float64((cpu1 - cpu0).Nanoseconds()) / float64(r.msgs)
			h.res.add(r.key+"_cpu", k.name, perMsg)
		}
		logf("    %s: %.0f msg/s, server CPU %.0f ns/msg", r.key, rate, perMsg)
	}
	return nil
}

// natsBench runs one tpRun and returns the subscriber's rate (pub/sub) or
// the publisher's (publish only), in messages per second.
func (h *harness) natsBench(s *server, r tpRun, subject string) (float64, error) {
	dir := h.cfg.workDir
	common := func(cmd, csvPath string) []string {
		args := append([]string{"--no-context", "-s", s.url()}, r.args...)
		return append(args, "bench", cmd, subject,
			"--msgs", strconv.Itoa(r.msgs), "--size", strconv.Itoa(r.size), "--no-progress", "--csv", csvPath)
	}
	pubCSV := filepath.Join(dir, "pub.csv")
	subCSV := filepath.Join(dir, "sub.csv")
	os.Remove(pubCSV)
	os.Remove(subCSV)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	var sub *exec.Cmd
	subDone := make(chan error, 1)
	if r.sub {
		sub = exec.CommandContext(ctx, h.nats, common("sub", subCSV)...)
		out, err := sub.StdoutPipe()
		if err != nil {
			return 0, err
		}
		sub.Stderr = sub.Stdout // the CLI logs its progress on either
		if err := sub.Start(); err != nil {
			return 0, err
		}
		ready := make(chan struct{})
		var tail strings.Builder
		go func() {
			sc := bufio.NewScanner(out)
			once := false
			for sc.Scan() {
				line := sc.Text()
				tail.WriteString(line + "\n")
				if !once && strings.Contains(line, "Starting Core NATS subscriber, expecting") {
					once = true
					close(ready)
				}
			}
			subDone <- sub.Wait()
		}()
		t := time.NewTimer(15 * time.Second)
		select {
		case <-ready:
		case err := <-subDone:
			t.Stop()
			return 0, fmt.Errorf("nats bench sub exited early: %v: %s", err, tail.String())
		case <-t.C:
			return 0, errors.New("nats bench sub not ready within 15 s")
		}
		t.Stop()
		// The CLI prints the line just before it subscribes; give the SUB
		// time to reach the server.
		time.Sleep(300 * time.Millisecond)
	}
	pub := exec.CommandContext(ctx, h.nats, common("pub", pubCSV)...)
	if out, err := pub.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("nats bench pub: %v: %s", err, out)
	}
	if !r.sub {
		return csvRate(pubCSV)
	}
	select {
	case err := <-subDone:
		if err != nil {
			return 0, fmt.Errorf("nats bench sub: %v", err)
		}
	case <-time.After(30 * time.Second):
		return 0, errors.New("nats bench sub did not receive every message within 30 s of the publisher's end")
	}
	return csvRate(subCSV)
}

// csvRate reads MsgsPerSec from a `nats bench --csv` file.
func csvRate(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) < 2 {
		return 0, fmt.Errorf("%s: no data row", path)
	}
	col := -1
	for i, name := range rows[0] {
		if name == "MsgsPerSec" {
			col = i
		}
	}
	if col < 0 || col >= len(rows[1]) {
		return 0, fmt.Errorf("%s: no MsgsPerSec column", path)
	}
	return strconv.ParseFloat(rows[1][col], 64)
}

func throughputDefs() []metricDef {
	return []metricDef{
		{key: "pubsub_16b", title: "pub/sub 16 B, 1 pub → 1 sub (subscriber rate)", unit: "msg/s", higher: true, judge: ratioAtLeast(1), limit: loopbackKey(16)},
		{key: "pubsub_1k", title: "pub/sub 1 KiB, 1 pub → 1 sub (subscriber rate)", unit: "msg/s", higher: true, judge: ratioAtLeast(1), limit: loopbackKey(1024)},
		{key: "pub_16b", title: "publish only 16 B", unit: "msg/s", higher: true, judge: ratioAtLeast(1), limit: loopbackKey(16)},
		{key: "pub_1k", title: "publish only 1 KiB", unit: "msg/s", higher: true, judge: ratioAtLeast(1), limit: loopbackKey(1024)},
		{key: "pubsub_16b_cpu", title: "server CPU per message: pub/sub 16 B", unit: "ns/msg"},
		{key: "pubsub_1k_cpu", title: "server CPU per message: pub/sub 1 KiB", unit: "ns/msg"},
		{key: "pub_16b_cpu", title: "server CPU per message: publish only 16 B", unit: "ns/msg"},
		{key: "pub_1k_cpu", title: "server CPU per message: publish only 1 KiB", unit: "ns/msg"},
	}
}

func throughputHow() string {
	var counts []string
	for _, r := range tpRuns {
		counts = append(counts, fmt.Sprintf("%s %s messages", r.key, commas(r.msgs)))
	}
	return "- **Throughput**: `nats bench` (natscli v0.5.0). Pub/sub starts `nats bench sub SUBJ --msgs N --size S` in the background, waits until it reports that it is subscribing, then runs `nats bench pub` with the same arguments; the figure is the subscriber's rate (first to last message received). Publish only runs `nats bench pub` alone; the figure is the publisher's rate. Counts: " + strings.Join(counts, ", ") + ".\n" +
		"- **Server CPU**: user + system time of the server process (all threads) from `/proc/PID/stat` before and after each run, per message (per delivered message where one message reaches several subscribers); for SIGTERM, from just before the signal to the exit (`wait`'s rusage). On a shared 2-core machine rates move with whatever else runs; the server's own CPU hardly does, so these rows say which server does less work for the same job.\n"
}
