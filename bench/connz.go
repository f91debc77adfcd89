package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// /connz scenario counts (issue 17): one connection holds connzSubs
// subscriptions and one more on "lat", which a publisher sends a
// timestamp to every connzEvery; the latency of those messages is taken
// quiet for connzQuiet, then for connzScrape while a client requests
// /connz (no subs=1) as fast as the server answers.
const (
	connzSubs   = 500_000
	connzEvery  = time.Millisecond
	connzQuiet  = 3 * time.Second
	connzScrape = 10 * time.Second
)

// connzLoad measures the latency a subscriber on a connection with many
// subscriptions sees while /connz is scraped, and how many scrapes the
// server answers.
func (h *harness) connzLoad(k serverKind) error {
	mport, err := freePort()
	if err != nil {
		return err
	}
	s, err := h.start(k, "connz", "-m", strconv.Itoa(mport))
	if err != nil {
		return err
	}
	defer s.stop()
	subs := connzSubs
	if h.cfg.quick {
		subs = 50_000
	}
	x, err := dialRaw(s.addr())
	if err != nil {
		return err
	}
	defer x.close()
	for i := range subs {
		fmt.Fprintf(x.w, "SUB s.%d %d\r\n", i, i+1)
	}
	x.w.WriteString("SUB lat 0\r\n")
	if err := x.ping(120*time.Second, nil); err != nil {
		return fmt.Errorf("subscribing: %w", err)
	}
	// x's reader: every "lat" message carries its send time.
	var (
		mu      sync.Mutex
		phase   int // 0: warm-up, 1: quiet, 2: scraping
		lat     = [3][]float64{}
		readErr = make(chan error, 1)
	)
	go func() {
		for {
			l, err := x.line(time.Minute)
			if err != nil {
				readErr <- err
				return
			}
			if !strings.HasPrefix(l, "MSG lat ") {
				continue
			}
			body, err := x.line(time.Minute)
			if err != nil {
				readErr <- err
				return
			}
			sent, _ := strconv.ParseInt(body, 10, 64)
			d := float64(time.Now().UnixNano()-sent) / 1e3
			mu.Lock()
			lat[phase] = append(lat[phase], d)
			mu.Unlock()
		}
	}()
	p, err := dialRaw(s.addr())
	if err != nil {
		return err
	}
	defer p.close()
	if err := p.ping(10*time.Second, nil); err != nil {
		return err
	}
	h.waitQuiet()
	publish := func(d time.Duration) error {
		end := time.Now().Add(d)
		t := time.NewTicker(connzEvery)
		defer t.Stop()
		for time.Now().Before(end) {
			<-t.C
			body := strconv.FormatInt(time.Now().UnixNano(), 10)
			fmt.Fprintf(p.w, "PUB lat %d\r\n%s\r\n", len(body), body)
			if err := p.w.Flush(); err != nil {
				return err
			}
		}
		return nil
	}
	setPhase := func(n int) { mu.Lock(); phase = n; mu.Unlock() }
	if err := publish(500 * time.Millisecond); err != nil { // warm-up
		return err
	}
	setPhase(1)
	if err := publish(connzQuiet); err != nil {
		return err
	}
	setPhase(2)
	var (
		stop    atomic.Bool
		scrapes atomic.Int64
		serr    error
		wg      sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := &http.Client{Timeout: 30 * time.Second}
		url := fmt.Sprintf("http://127.0.0.1:%d/connz", mport)
		for i := 0; !stop.Load() && i < 10_000_000; i++ {
			resp, err := c.Get(url)
			if err != nil {
				serr = err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				serr = fmt.Errorf("/connz: %s", resp.Status)
				return
			}
			scrapes.Add(1)
		}
	}()
	perr := publish(connzScrape)
	stop.Store(true)
	wg.Wait()
	if perr != nil {
		return perr
	}
	if serr != nil {
		return serr
	}
	// Let the last messages arrive, then take the figures.
	if err := p.ping(10*time.Second, nil); err != nil {
		return err
	}
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-readErr:
		return fmt.Errorf("subscriber: %w", err)
	default:
	}
	mu.Lock()
	quiet, scraped := summarize(lat[1]), summarize(lat[2])
	mu.Unlock()
	if quiet.n == 0 || scraped.n == 0 {
		return fmt.Errorf("no latency samples (quiet %d, scraping %d)", quiet.n, scraped.n)
	}
	rate := float64(scrapes.Load()) / connzScrape.Seconds()
	h.res.add("connz_lat", k.name, scraped.median)
	h.res.add("connz_lat_quiet", k.name, quiet.median)
	h.res.add("connz_scrapes", k.name, rate)
	for _, key := range []string{"connz_lat", "connz_lat_quiet", "connz_scrapes"} {
		h.res.setCount(key, subs)
	}
	logf("    %d subscriptions: latency median %.0f µs quiet (%d msgs), %.0f µs while scraping (%d msgs, max %.0f µs); %.0f scrapes/s",
		subs, quiet.median, quiet.n, scraped.median, scraped.n, scraped.max, rate)
	return nil
}

func connzDefs() []metricDef {
	return []metricDef{
		{key: "connz_lat_quiet", title: "%s subscriptions on one connection: latency to another of its subscriptions, quiet (median)", unit: "µs", prec: 0},
		{key: "connz_lat", title: "%s subscriptions on one connection: that latency while /connz is scraped (median)", unit: "µs", prec: 0, judge: ratioAtMost(2)},
		{key: "connz_scrapes", title: "%s subscriptions on one connection: /connz answered", unit: "req/s", higher: true, prec: 0, judge: ratioAtLeast(0.5)},
	}
}

func connzHow() string {
	return fmt.Sprintf("- **/connz under load** (issue 17): one raw client holds %s subscriptions (`s.N`) and one on `lat`; a publisher sends `lat` its send time every %v. Figures: the median latency (send → read by the subscriber) over %v without scrapes, then over %v while one client requests `/connz` (no `subs=1`) back to back, and those requests per second.\n", commas(connzSubs), connzEvery, connzQuiet, connzScrape)
}
