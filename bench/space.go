package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// The subject-space scenario: one server, spaceConns held connections
// (holder processes in -space mode, holder.go), subscriptions added in
// steps up to each size of -space (1,000 → 100,000 → 1,000,000), and at
// each size the memory per subscription, the rate of the step's SUBs and
// the rate of delivering messages published to a subject that exactly
// spaceMatches of the subscriptions match.

// spaceConns is how many connections hold the subscriptions.
const spaceConns = 10_000

// The subscriptions come in groups of spaceGroup: in group g, ten literal
// subjects sp.g.l.0 … sp.g.l.9 that nothing is published to, and the ten
// patterns of spaceMatching, which all match sp.g.a.b.c (one literal, nine
// with wildcards). Subscription i is held by connection i mod spaceConns,
// so that a group's ten matches sit on ten connections.
const (
	spaceGroup   = 20
	spaceMatches = 10
)

var spaceMatching = [spaceMatches]string{"a.b.c", "*.b.c", "a.*.c", "a.b.*", "*.*.c", "*.b.*", "a.*.*", "*.*.*", "a.>", ">"}

// spaceSubject is the subject (or pattern) of subscription i.
func spaceSubject(i int) string {
	g, j := i/spaceGroup, i%spaceGroup
	if j < spaceGroup-spaceMatches {
		return "sp." + strconv.Itoa(g) + ".l." + strconv.Itoa(j)
	}
	return "sp." + strconv.Itoa(g) + "." + spaceMatching[j-(spaceGroup-spaceMatches)]
}

// spaceTarget is the subject the publish runs use: group g's literal,
// with g in the middle of the smallest size, so that it exists at every
// size.
func spaceTarget(smallest int) string {
	return "sp." + strconv.Itoa(smallest/spaceGroup/2) + ".a.b.c"
}

// spacePubMsgs is how many 16 B messages each publish run sends (each is
// delivered spaceMatches times).
const spacePubMsgs = 400_000

func (h *harness) spaceDefs() []metricDef {
	var defs []metricDef
	for _, n := range h.cfg.space {
		c := commas(n)
		defs = append(defs,
			metricDef{key: spaceKey("mem", n), title: "subject space, " + c + " subscriptions: memory per subscription (RSS growth)", unit: "B/sub", prec: 0, judge: ratioAtMost(1)},
			metricDef{key: spaceKey("subrate", n), title: "subject space, " + c + " subscriptions: subscribe rate (the step up to this size)", unit: "sub/s", higher: true, judge: ratioAtLeast(1)},
			metricDef{key: spaceKey("subcpu", n), title: "subject space, " + c + " subscriptions: server CPU per subscription (the step up to this size)", unit: "ns/sub", judge: ratioAtMost(1)},
			metricDef{key: spaceKey("pub", n), title: "subject space, " + c + " subscriptions: publish 16 B to a subject matching 10 (delivered)", unit: "msg/s", higher: true, judge: ratioAtLeast(1), limit: loopbackKey(16)},
			metricDef{key: spaceKey("pub", n) + "_cpu", title: "subject space, " + c + " subscriptions: server CPU per delivered message", unit: "ns/msg", judge: ratioAtMost(1)},
		)
	}
	return defs
}

func spaceKey(figure string, n int) string { return "space_" + figure + "_" + strconv.Itoa(n) }

// subjectSpace runs the growing subject space against one fresh server.
func (h *harness) subjectSpace(k serverKind) error {
	if len(h.cfg.space) == 0 {
		return nil
	}
	s, err := h.start(k, "subjects")
	if err != nil {
		return err
	}
	defer s.stop()
	conns := idleCount(spaceConns)
	h.waitQuiet()
	hs, err := startHoldersMode(s.addr(), conns, false, true)
	defer stopHolders(hs)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	base, err := s.rss()
	if err != nil {
		return err
	}
	nc, err := nats.Connect(s.url(), nats.NoReconnect(), nats.Name("bench-pub"), nats.FlusherTimeout(10*time.Second), nats.Timeout(10*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	target := spaceTarget(h.cfg.space[0])
	msgs := spacePubMsgs
	if h.cfg.quick {
		msgs /= 10
	}
	prev := 0
	for _, n := range h.cfg.space {
		h.waitQuiet()
		stopProfile := h.profile(s, "space_sub_"+strconv.Itoa(n))
		cpu0, cerr := s.cpuTime()
		subs, d, err := spaceSubscribe(hs, prev, n)
		cpu1, cerr2 := s.cpuTime()
		stopProfile()
		if err != nil {
			return fmt.Errorf("subscribe %d to %d: %w", prev, n, err)
		}
		if subs != n-prev {
			return fmt.Errorf("subscribe %d to %d: the holders made %d subscriptions", prev, n, subs)
		}
		rate := float64(subs) / d.Seconds()
		time.Sleep(2 * time.Second) // as for idle memory: let the server settle
		rss, err := s.rss()
		if err != nil {
			return err
		}
		perSub := float64(rss-base) / float64(n)
		h.res.add(spaceKey("mem", n), k.name, perSub)
		h.res.add(spaceKey("subrate", n), k.name, rate)
		subCPU := -1.0
		if cerr == nil && cerr2 == nil {
			subCPU = float64((cpu1 - cpu0).Nanoseconds()) / float64(subs)
			h.res.add(spaceKey("subcpu", n), k.name, subCPU)
		}

		h.waitQuiet()
		pub, cpu, err := h.spacePublish(s, hs, nc, target, msgs, n)
		if err != nil {
			return fmt.Errorf("%d subscriptions, publish: %w", n, err)
		}
		h.res.add(spaceKey("pub", n), k.name, pub)
		if cpu >= 0 {
			h.res.add(spaceKey("pub", n)+"_cpu", k.name, cpu)
		}
		logf("    %s subscriptions on %d connections: %.0f B/sub (RSS %.1f MiB over %.1f MiB), %.0f sub/s (server CPU %.0f ns/sub), publish %.0f msg/s delivered, %.0f ns per delivered message",
			commas(n), conns, perSub, float64(rss-base)/(1<<20), float64(base)/(1<<20), rate, subCPU, pub, cpu)
		prev = n
	}
	return nil
}

// spaceSubscribe has every holder subscribe its share of [from, to) and
// returns the subscriptions made and the longest holder's time.
func spaceSubscribe(hs []*holderProc, from, to int) (int, time.Duration, error) {
	for _, hp := range hs {
		if _, err := fmt.Fprintf(hp.stdin, "subscribe %d %d\n", from, to); err != nil {
			return 0, 0, err
		}
	}
	total, longest := 0, time.Duration(0)
	for _, hp := range hs {
		line, err := hp.readLine(5 * time.Minute)
		if err != nil {
			return 0, 0, err
		}
		var k int
		var ns int64
		if _, err := fmt.Sscanf(line, "subscribed %d %d", &k, &ns); err != nil {
			return 0, 0, fmt.Errorf("holder: %q", line)
		}
		total += k
		longest = max(longest, time.Duration(ns))
	}
	return total, longest, nil
}

// spaceCount returns the messages delivered to every holder's connections
// so far.
func spaceCount(hs []*holderProc) (int64, error) {
	var total int64
	for _, hp := range hs {
		if _, err := fmt.Fprintln(hp.stdin, "count"); err != nil {
			return 0, err
		}
		line, err := hp.readLine(10 * time.Second)
		if err != nil {
			return 0, err
		}
		var k int64
		if _, err := fmt.Sscanf(line, "count %d", &k); err != nil {
			return 0, fmt.Errorf("holder: %q", line)
		}
		total += k
	}
	return total, nil
}

// spacePublish publishes msgs 16 B messages to target and waits until the
// holders have counted spaceMatches deliveries of each; it returns the
// delivered rate and the server's CPU per delivered message (-1 when
// unknown).
func (h *harness) spacePublish(s *server, hs []*holderProc, nc *nats.Conn, target string, msgs, size int) (float64, float64, error) {
	before, err := spaceCount(hs)
	if err != nil {
		return 0, 0, err
	}
	goal := before + int64(msgs)*spaceMatches
	payload := bytes.Repeat([]byte("x"), 16)
	stopProfile := h.profile(s, "space_pub_"+strconv.Itoa(size))
	defer stopProfile()
	cpu0, cerr := s.cpuTime()
	start := time.Now()
	for range msgs {
		if err := nc.Publish(target, payload); err != nil {
			return 0, 0, err
		}
	}
	if err := nc.FlushTimeout(30 * time.Second); err != nil {
		return 0, 0, err
	}
	deadline := start.Add(60 * time.Second)
	var got int64
	for {
		if got, err = spaceCount(hs); err != nil {
			return 0, 0, err
		}
		if got >= goal {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("%d of %d deliveries within 60 s", got-before, goal-before)
		}
		time.Sleep(2 * time.Millisecond)
	}
	d := time.Since(start)
	cpu1, cerr2 := s.cpuTime()
	if got != goal {
		return 0, 0, fmt.Errorf("%d deliveries, want %d", got-before, goal-before)
	}
	cpu := -1.0
	if cerr == nil && cerr2 == nil {
		cpu = float64((cpu1 - cpu0).Nanoseconds()) / float64(goal-before)
	}
	return float64(goal-before) / d.Seconds(), cpu, nil
}

// holdSpace is a holder's subject-space mode: conns become light
// subscribers numbered base, base+1, … of total, and the holder answers
// the harness's subscribe and count commands until its input closes.
func holdSpace(conns []net.Conn, base, total int) int {
	var delivered atomic.Int64
	subs := make([]*lightSub, len(conns))
	for i, c := range conns {
		subs[i] = newLightSub(c, 4<<10, func(n int64) { delivered.Add(n) })
	}
	defer func() {
		for _, s := range subs {
			s.close()
		}
	}()
	fmt.Println("ready", len(conns))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 1 && f[0] == "count":
			fmt.Println("count", delivered.Load())
		case len(f) == 3 && f[0] == "subscribe":
			from, err1 := strconv.Atoi(f[1])
			to, err2 := strconv.Atoi(f[2])
			if err1 != nil || err2 != nil {
				fmt.Println("fail bad subscribe command")
				return 1
			}
			start := time.Now()
			k, err := subscribeSpace(subs, base, total, from, to)
			if err != nil {
				fmt.Println("fail", strings.ReplaceAll(err.Error(), "\n", " "))
				return 1
			}
			fmt.Println("subscribed", k, time.Since(start).Nanoseconds())
		}
	}
	return 0
}

// subscribeSpace sends each connection's SUBs of [from, to) and a PING,
// from 64 goroutines, then waits for every PONG: the SUBs of all
// connections are in flight together, so that the figure is the server's
// pace rather than a round trip per connection.
func subscribeSpace(subs []*lightSub, base, total, from, to int) (int, error) {
	var next, made atomic.Int64
	sent := make([]bool, len(subs))
	errs := make([]error, len(subs))
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lines []byte
			for {
				j := int(next.Add(1) - 1)
				if j >= len(subs) {
					return
				}
				g := base + j
				lines = lines[:0]
				k := 0
				// The first i >= from with i mod total == g.
				for i := from + ((g-from%total)+total)%total; i < to; i += total {
					lines = append(lines, "SUB "...)
					lines = append(lines, spaceSubject(i)...)
					lines = append(lines, ' ')
					lines = strconv.AppendInt(lines, int64(i+1), 10)
					lines = append(lines, "\r\n"...)
					k++
				}
				if k == 0 {
					continue
				}
				if errs[j] = subs[j].send(lines); errs[j] == nil {
					sent[j] = true
					made.Add(int64(k))
				}
			}
		}()
	}
	wg.Wait()
	for j, s := range subs {
		if sent[j] {
			errs[j] = s.awaitPong(2 * time.Minute)
		}
		if errs[j] != nil {
			return 0, fmt.Errorf("connection %d: %w", base+j, errs[j])
		}
	}
	return int(made.Load()), nil
}

func (h *harness) spaceHow() string {
	return fmt.Sprintf("- **Subject space**: one fresh server; %s connections held by client processes (this harness as `holder -space`, %d connections each), each a light subscriber. Subscriptions come in groups of %d: ten literal subjects `sp.G.l.0` … `sp.G.l.9` and the ten patterns `sp.G.a.b.c`, `sp.G.*.b.c`, `sp.G.a.*.c`, `sp.G.a.b.*`, `sp.G.*.*.c`, `sp.G.*.b.*`, `sp.G.a.*.*`, `sp.G.*.*.*`, `sp.G.a.>`, `sp.G.>` (55%% literal, 45%% wildcard, every one distinct); subscription i is held by connection i mod %s. They are added in steps up to each size (%s); each step's figure is its SUBs over the time from the command to the last connection's `PONG` after them (timed in the holders, the slower of the two), and the server's CPU over the step per subscription; the 1,000 step is too small to time well (the CPU figure moves in 10 ms ticks, 10 µs per subscription there). On this 2-core machine the holders compete with the server for the CPUs while they subscribe, so the rate is an end-to-end figure and the CPU per subscription says which server does less work. "+
		"Memory per subscription: (VmRSS 2 s after the step − VmRSS with the connections open and no subscriptions) / subscriptions. Publish: nats.go publishes %s messages of 16 B to `sp.G.a.b.c` for the G in the middle of the smallest size, which exactly %d subscriptions (on %d connections) match; figure: deliveries counted by the holders (polled) over the time from the first publish; CPU: the server's, per delivered message.\n",
		commas(spaceConns), perHolder, spaceGroup, commas(spaceConns), spaceSizes(h.cfg.space), commas(spacePubMsgs), spaceMatches, spaceMatches)
}

func spaceSizes(ns []int) string {
	var s []string
	for _, n := range ns {
		s = append(s, commas(n))
	}
	return strings.Join(s, " → ")
}

// growthTables shows, for each subject-space figure, how it moves from
// the smallest size to the largest on each server; the target asks for
// natsd's CPU per delivered message to stay within 2× of its value at the
// smallest size.
func (h *harness) growthTables() string {
	sizes := h.cfg.space
	if len(sizes) < 2 || h.res.vals[spaceKey("pub", sizes[0])] == nil {
		return ""
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## Subject space: growth from %s to %s subscriptions\n\n", commas(sizes[0]), commas(sizes[len(sizes)-1]))
	p("Medians of the rows above; the last column is the figure at the largest size over the figure at the smallest.\n\n")
	p("| figure | server |")
	for _, n := range sizes {
		p(" %s |", commas(n))
	}
	p(" growth |\n|---|---|")
	for range sizes {
		p("---|")
	}
	p("---|\n")
	figures := []struct{ key, title, unit string }{
		{"mem", "memory per subscription", "B/sub"},
		{"subrate", "subscribe rate", "sub/s"},
		{"subcpu", "server CPU per subscription", "ns/sub"},
		{"pub", "publish, delivered", "msg/s"},
		{"pub_cpu", "server CPU per delivered message", "ns/msg"},
	}
	var natsdCPU []float64
	for _, f := range figures {
		for _, server := range []string{"natsd", "nats-server"} {
			p("| %s (%s) | %s |", f.title, f.unit, server)
			var first, last float64
			for i, n := range sizes {
				key := spaceKey(f.key, n)
				if f.key == "pub_cpu" {
					key = spaceKey("pub", n) + "_cpu"
				}
				sm := summarize(h.res.vals[key][server])
				if sm.n == 0 {
					p(" — |")
					continue
				}
				p(" %s |", num(sm.median, 0))
				if i == 0 {
					first = sm.median
				}
				last = sm.median
				if f.key == "pub_cpu" && server == "natsd" {
					natsdCPU = append(natsdCPU, sm.median)
				}
			}
			if first > 0 {
				p(" %.2f× |\n", last/first)
			} else {
				p(" — |\n")
			}
		}
	}
	p("\n")
	if len(natsdCPU) == len(sizes) {
		worst := 0.0
		for _, v := range natsdCPU {
			worst = max(worst, v/natsdCPU[0])
		}
		met := "no"
		if worst <= 2 {
			met = "yes"
		}
		p("Target: natsd's CPU per delivered message within 2× of its value at %s subscriptions at every size: largest ratio %.2f×, met: %s.\n\n", commas(sizes[0]), worst, met)
	}
	return b.String()
}
