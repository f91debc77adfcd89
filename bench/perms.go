package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// permsConf is added to the shared config for the "perms" scenario: one
// user whose publish and subscribe permissions both allow the benchmark
// subject through an allow list and have a deny list, so every publish is
// checked (natsd: one cached lookup per subject).
const permsConf = `authorization {
  users: [
    {user: bench, password: bench, permissions: {
      publish: {allow: ["bench.>", "_INBOX.>"], deny: ["bench.secret.>"]}
      subscribe: {allow: ["bench.>", "_INBOX.>"], deny: ["bench.secret.>"]}
    }}
  ]
}
`

// permsRun is pub/sub 16 B, as the throughput scenario's, as that user.
var permsRun = tpRun{"pubsub_16b_perms", 16, 2_000_000, true, []string{"--user", "bench", "--password", "bench"}}

// perms runs pub/sub 16 B as a user with permissions against one fresh
// server.
func (h *harness) perms(k serverKind) error {
	base, err := os.ReadFile(h.confPath())
	if err != nil {
		return err
	}
	conf := filepath.Join(h.cfg.workDir, "bench-perms.conf")
	if err := os.WriteFile(conf, append(base, permsConf...), 0o644); err != nil {
		return err
	}
	s, err := h.startWith(k, "perms", conf)
	if err != nil {
		return err
	}
	defer s.stop()
	r := permsRun
	if h.cfg.quick {
		r.msgs /= 10
	}
	var rate float64
	var cpu0 time.Duration
	var cerr error
	err = h.try(r.key, "bench.perms", func(subject string) (err error) {
		cpu0, cerr = s.cpuTime()
		rate, err = h.natsBench(s, r, subject)
		return err
	})
	if err != nil {
		return err
	}
	h.res.add(r.key, k.name, rate)
	cpu1, cerr2 := s.cpuTime()
	perMsg := 0.0
	if cerr == nil && cerr2 == nil {
		perMsg = float64((cpu1 - cpu0).Nanoseconds()) / float64(r.msgs)
		h.res.add(r.key+"_cpu", k.name, perMsg)
	}
	logf("    %s: %.0f msg/s, server CPU %.0f ns/msg", r.key, rate, perMsg)
	return nil
}

func permsDefs() []metricDef {
	return []metricDef{
		{key: "pubsub_16b_perms", title: "pub/sub 16 B as a user with permissions (subscriber rate)", unit: "msg/s", higher: true, judge: ratioAtLeast(1), limit: loopbackKey(16)},
		{key: "pubsub_16b_perms_cpu", title: "server CPU per message: pub/sub 16 B with permissions", unit: "ns/msg"},
	}
}

func permsHow() string {
	return fmt.Sprintf("- **Permissions**: pub/sub 16 B as the throughput row (%s messages), with the client logging in as a user whose publish and subscribe permissions have an allow list (`bench.>`, `_INBOX.>`) and a deny list (`bench.secret.>`), so every publish and subscription is checked.\n", commas(permsRun.msgs))
}
