package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// The loopback limit: how fast this machine carries a row's frames over
// one loopback TCP connection with nothing but a writer and a reader, the
// reader being the same frame counter the light subscribers use. A server
// does more for each message (reads and parses the PUB, routes it, writes
// the MSG), so a row's share of the limit says how close it comes to the
// machine.

// loopbackName is the "server" the limits are recorded under.
const loopbackName = "loopback"

// loopbackKey is the metric holding the limit in messages per second for
// payloads of size bytes; loopbackMBKey the same in MB/s.
func loopbackKey(size int) string   { return "loopback_" + strconv.Itoa(size) }
func loopbackMBKey(size int) string { return loopbackKey(size) + "_mb" }

// loopbackBytes bounds each limit run: about half a second here.
const (
	loopbackBytes     = 1 << 30
	loopbackMaxFrames = 20_000_000
)

// loopbackDefs: the limits are columns of other rows, not rows.
func loopbackDefs() []metricDef { return nil }

// loopbackSizes returns the payload sizes whose limits the selected
// scenarios' rows refer to.
func (h *harness) loopbackSizes() []int {
	seen := map[int]bool{}
	var sizes []int
	for _, sc := range h.scenarios() {
		if sc.once || !h.selected(sc) {
			continue
		}
		for _, d := range sc.defs() {
			rest, ok := strings.CutPrefix(d.limit, "loopback_")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSuffix(rest, "_mb"))
			if err == nil && !seen[n] {
				seen[n] = true
				sizes = append(sizes, n)
			}
		}
	}
	return sizes
}

// loopback measures the limit for every payload size the selected rows
// need, once per round.
func (h *harness) loopback(serverKind) error {
	for _, size := range h.loopbackSizes() {
		h.waitQuiet()
		rate, err := loopbackRate(size, h.cfg.quick)
		if err != nil {
			return fmt.Errorf("loopback %d B: %w", size, err)
		}
		h.res.add(loopbackKey(size), loopbackName, rate)
		h.res.add(loopbackMBKey(size), loopbackName, rate*float64(size)/1e6)
		logf("    %d B frames: %.0f msg/s, %.0f MB/s", size, rate, rate*float64(size)/1e6)
	}
	return nil
}

// loopbackRate writes MSG frames with payloads of size bytes over one
// loopback connection, in batches of about 64 KiB, and returns the frames
// per second the reader counted.
func loopbackRate(size int, quick bool) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	frame := []byte(fmt.Sprintf("MSG bench.loopback 1 %d\r\n%s\r\n", size, strings.Repeat("x", size)))
	frames := min(loopbackMaxFrames, max(100, loopbackBytes/len(frame)))
	if quick {
		frames /= 10
	}
	perBatch := max(1, 64<<10/len(frame))
	batch := make([]byte, 0, perBatch*len(frame))
	for range perBatch {
		batch = append(batch, frame...)
	}

	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	rc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	wc, ok := <-accepted
	if !ok {
		rc.Close()
		return 0, fmt.Errorf("accept failed")
	}
	defer wc.Close()
	t := newTally(int64(frames))
	sub := newLightSub(rc, 64<<10, t.add)
	defer sub.close()

	start := time.Now()
	werr := make(chan error, 1)
	go func() {
		for left := frames; left > 0; left -= perBatch {
			n := min(left, perBatch)
			if _, err := wc.Write(batch[:n*len(frame)]); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	end, err := t.wait(60 * time.Second)
	if err != nil {
		return 0, err
	}
	if err := <-werr; err != nil {
		return 0, err
	}
	return float64(frames) / end.Sub(start).Seconds(), nil
}

func loopbackHow() string {
	return fmt.Sprintf("- **Loopback limit**: once per round, for each payload size a row refers to, one goroutine writes pre-built `MSG` frames of that size in batches of about 64 KiB to a loopback TCP connection and another counts them with the light subscribers' frame reader (below); %s bytes or %s frames, whichever is fewer. A server does more per message (read and parse the `PUB`, route it, write the `MSG`), and the fan-out rows spread their deliveries over many connections, so the limit is a yardstick for how close a row comes to the machine, not a bound it cannot pass.\n",
		commas(loopbackBytes), commas(loopbackMaxFrames))
}
