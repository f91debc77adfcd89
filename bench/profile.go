package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// With -profile, natsd runs with --profile PORT (so its flags differ from
// nats-server's: such a run is for diagnosis, and the report says so) and
// the harness saves a CPU profile of natsd during each throughput, pub/sub
// load and request/reply run and each subject-space step, as
// WORK/profiles/ROW.pprof, for `go tool pprof bin/natsd FILE`.

// profileSeconds is how long each profile lasts: about one run.
const profileSeconds = 2

// profile starts a CPU profile of s if profiling is on and s is natsd,
// and returns a function that waits for it and saves it.
func (h *harness) profile(s *server, row string) (stop func()) {
	if !h.cfg.profile || s.profPort == 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", s.profPort, profileSeconds)
		c := http.Client{Timeout: profileSeconds*time.Second + 30*time.Second}
		resp, err := c.Get(url)
		if err != nil {
			logf("    profile %s: %v", row, err)
			return
		}
		defer resp.Body.Close()
		dir := filepath.Join(h.cfg.workDir, "profiles")
		os.MkdirAll(dir, 0o755)
		path := filepath.Join(dir, row+".pprof")
		f, err := os.Create(path)
		if err != nil {
			logf("    profile %s: %v", row, err)
			return
		}
		defer f.Close()
		if _, err := io.Copy(f, resp.Body); err != nil {
			logf("    profile %s: %v", row, err)
			return
		}
		logf("    profile: %s", path)
	}()
	return func() { <-done }
}

// profileArgs returns the extra flags for a server of kind k: --profile
// PORT for natsd when profiling is on.
func (h *harness) profileArgs(k serverKind) ([]string, int, error) {
	if !h.cfg.profile || k.name != "natsd" {
		return nil, 0, nil
	}
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	return []string{"--profile", strconv.Itoa(port)}, port, nil
}
