package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cross-route runs (issue 14): two servers of one kind in a cluster, the
// publisher on node 1 and the subscriber on node 2, so every message
// crosses the route. They run as loads (loads.go): a nats.go publisher in
// the harness and a light subscriber, which keeps up with either server
// (the `nats bench sub` CLI did not: it lost messages behind nats-server's
// 1 KiB route rate). natsd's routes are unpooled; two nats-server nodes
// use their defaults (a pool of 3, compression negotiated off between two
// servers that only accept it).
var crossLoads = []load{
	{group: "crossroute", key: "cross_16b", pubs: 1, subs: 1, size: 16, msgs: 3_000_000},
	{group: "crossroute", key: "cross_1k", pubs: 1, subs: 1, size: 1024, msgs: 1_000_000},
}

// crossRoute runs every crossLoads row against a fresh two-node cluster.
func (h *harness) crossRoute(k serverKind) error {
	n1, n2, err := h.startPair(k)
	if err != nil {
		return err
	}
	defer n1.stop()
	defer n2.stop()
	for i, l := range crossLoads {
		if h.cfg.quick {
			l.msgs /= 10
		}
		var res loadResult
		err := h.try(l.key, fmt.Sprintf("bench.%s.%d", l.key, i), func(subject string) (err error) {
			res, err = h.runLoadAcross(n1, n2, l, subject)
			return err
		})
		if err != nil {
			return err
		}
		h.res.add(l.key, k.name, res.rate)
		if res.cpu >= 0 {
			h.res.add(l.key+"_cpu", k.name, res.cpu)
		}
		logf("    %s: %.0f msg/s, both servers' CPU %.0f ns/msg", l.key, res.rate, res.cpu)
	}
	return nil
}

// startPair starts two servers of kind k in one cluster, node 2 seeded
// with node 1, and waits until a message published on node 1 reaches a
// subscriber on node 2.
func (h *harness) startPair(k serverKind) (*server, *server, error) {
	p1, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	p2, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	cluster := func(port int) []string {
		return []string{"--cluster", "nats://127.0.0.1:" + strconv.Itoa(port), "--cluster_name", "bench"}
	}
	n1, err := h.start(k, "cross-1", cluster(p1)...)
	if err != nil {
		return nil, nil, err
	}
	n2, err := h.start(k, "cross-2", append(cluster(p2), "--routes", "nats-route://127.0.0.1:"+strconv.Itoa(p1))...)
	if err != nil {
		n1.stop()
		return nil, nil, err
	}
	if err := routeReady(n1, n2, 20*time.Second); err != nil {
		n1.stop()
		n2.stop()
		return nil, nil, fmt.Errorf("%s cluster: %w", k.name, err)
	}
	return n1, n2, nil
}

// routeReady waits until a message published on pub reaches a subscriber
// on sub, within limit.
func routeReady(pub, sub *server, limit time.Duration) error {
	s, err := dialRaw(sub.addr())
	if err != nil {
		return err
	}
	defer s.close()
	s.w.WriteString("SUB bench.ready 1\r\n")
	if err := s.ping(5*time.Second, nil); err != nil {
		return err
	}
	p, err := dialRaw(pub.addr())
	if err != nil {
		return err
	}
	defer p.close()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		p.w.WriteString("PUB bench.ready 1\r\nx\r\n")
		if err := p.ping(5*time.Second, nil); err != nil {
			return err
		}
		if l, err := s.line(50 * time.Millisecond); err == nil && strings.HasPrefix(l, "MSG bench.ready") {
			return nil
		}
	}
	return errors.New("no message crossed the route")
}

func crossDefs() []metricDef {
	return []metricDef{
		{key: "cross_16b", title: "cross-route pub/sub 16 B, pub on node 1 → sub on node 2 (subscriber rate)", unit: "msg/s", higher: true, judge: ratioAtLeast(1), limit: loopbackKey(16)},
		{key: "cross_1k", title: "cross-route pub/sub 1 KiB, pub on node 1 → sub on node 2 (subscriber rate)", unit: "msg/s", higher: true, judge: ratioAtLeast(1), limit: loopbackKey(1024)},
		{key: "cross_16b_cpu", title: "both servers' CPU per message: cross-route 16 B", unit: "ns/msg"},
		{key: "cross_1k_cpu", title: "both servers' CPU per message: cross-route 1 KiB", unit: "ns/msg"},
	}
}

func crossHow() string {
	return fmt.Sprintf("- **Cross-route**: two servers of the same kind in one cluster (`--cluster nats://127.0.0.1:PORT --cluster_name bench`, node 2 with `--routes` to node 1; natsd unpooled, nats-server with its default pool of 3 and compression off between the two), ready once a message published on node 1 reaches a subscriber on node 2. Each row is a load as above: a light subscriber on node 2 (its `SUB` answered, then a fresh subscription's message from node 1 must reach node 2 before the publishing starts, so node 1 has the interest), one nats.go publisher on node 1 (%s and %s messages); the figure is the subscriber's rate, and every message must arrive. CPU is both server processes' user + system time per message.\n",
		commas(crossLoads[0].msgs), commas(crossLoads[1].msgs))
}
