package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// Message routing with real nats-server v2.15.2 nodes and natsd servers,
// in the two topologies of issue 14: natsd with two nats-server nodes
// (natsd seeded with one of them only, so that gossip completes the mesh)
// and three natsd servers. Every check waits for the interest to be seen
// where the message is published (in that node's /routez?subs=1), then
// counts exactly.

// routingNode is a node of a routing test, natsd or nats-server.
type routingNode interface {
	meshNode
	clientURL() string
	monitorURL() string
}

func (n *clusterNatsd) monitorURL() string { return n.Ports().Monitoring[0] }

func (ns *natsServer) monitorURL() string { return fmt.Sprintf("http://127.0.0.1:%d", ns.httpPort) }

// routeSubs reads node's /routez?subs=1: the subjects of the interest
// each remote server sent it, by remote server name (nats-server lists
// one entry per pooled connection: they are merged).
func routeSubs(t *testing.T, node routingNode) map[string][]string {
	t.Helper()
	resp, err := http.Get(node.monitorURL() + "/routez?subs=1")
	assert.NilError(t, err)
	defer resp.Body.Close()
	var rz struct {
		Routes []struct {
			RemoteName string   `json:"remote_name"`
			NumSubs    int      `json:"subscriptions"`
			Subs       []string `json:"subscriptions_list"`
		} `json:"routes"`
	}
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&rz))
	out := map[string][]string{}
	for _, r := range rz.Routes {
		assert.Equal(t, r.NumSubs, len(r.Subs), "%s: subscriptions and subscriptions_list disagree", r.RemoteName)
		out[r.RemoteName] = append(out[r.RemoteName], r.Subs...)
	}
	return out
}

// waitInterest waits until node knows that the server named from has
// interest in subj (present), or that it has none (!present).
func waitInterest(t *testing.T, node routingNode, from, subj string, present bool) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if slices.Contains(routeSubs(t, node)[from], subj) == present {
			return poll.Success()
		}
		return poll.Continue("%s: interest of %s in %q present=%v", node.Name(), from, subj, !present)
	}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(20*time.Second))
}

// routingTopologies starts each topology of the issue, its nodes in full
// mesh.
var routingTopologies = []struct {
	name  string
	start func(t *testing.T) []routingNode
}{
	{"natsd+2nats-server", func(t *testing.T) []routingNode {
		a := startNatsServer(t, "A", 0, nil, "")
		n := startClusterNatsd(t, "N", []string{a.routeURL()}, nil)
		b := startNatsServer(t, "B", 0, []string{a.routeURL()}, "")
		waitMesh(t, a, b, n)
		return []routingNode{a, n, b}
	}},
	{"3natsd", func(t *testing.T) []routingNode {
		n1 := startClusterNatsd(t, "n1", nil, nil)
		n2 := startClusterNatsd(t, "n2", []string{n1.routeURL()}, nil)
		n3 := startClusterNatsd(t, "n3", []string{n1.routeURL()}, nil)
		waitMesh(t, n1, n2, n3)
		return []routingNode{n1, n2, n3}
	}},
}

// TestClusterRouting runs the routing checks in both topologies.
func TestClusterRouting(t *testing.T) {
	for _, topo := range routingTopologies {
		t.Run(topo.name, func(t *testing.T) {
			nodes := topo.start(t)
			conns := make([]*nats.Conn, len(nodes))
			for i, n := range nodes {
				conns[i] = connectTo(t, n.clientURL())
			}
			t.Run("discovered", func(t *testing.T) {
				for i, n := range nodes {
					var want []string
					for _, o := range nodes {
						if o != n {
							want = append(want, o.clientURL())
						}
					}
					discovered(t, conns[i], want...)
				}
			})
			t.Run("pairs", func(t *testing.T) { routingPairs(t, nodes, conns) })
			t.Run("queue", func(t *testing.T) { routingQueue(t, nodes, conns) })
			t.Run("request", func(t *testing.T) { routingRequest(t, nodes, conns) })
			t.Run("headers", func(t *testing.T) { routingHeaders(t, nodes, conns) })
			t.Run("wildcards", func(t *testing.T) { routingWildcards(t, nodes, conns) })
			t.Run("withdrawal", func(t *testing.T) { routingWithdrawal(t, nodes, conns) })
			for _, n := range nodes {
				if nd, ok := n.(*clusterNatsd); ok {
					assert.Equal(t, nd.logs.count("level=error"), 0, "%s logged errors", nd.name)
					checkVarzCluster(t, nd, len(nodes)-1)
				}
			}
		})
	}
}

// routingPairs: a message published on node i reaches a subscriber on node
// j exactly once, for every ordered pair; a subscriber on i gets it too,
// and nothing goes back and forth.
func routingPairs(t *testing.T, nodes []routingNode, conns []*nats.Conn) {
	for i := range nodes {
		for j := range nodes {
			if i == j {
				continue
			}
			subj := fmt.Sprintf("pair.%s.%s", nodes[i].Name(), nodes[j].Name())
			remote, err := conns[j].SubscribeSync(subj)
			assert.NilError(t, err)
			local, err := conns[i].SubscribeSync(subj)
			assert.NilError(t, err)
			flush(t, conns[j], conns[i])
			waitInterest(t, nodes[i], nodes[j].Name(), subj, true)
			for k := range 10 {
				assert.NilError(t, conns[i].Publish(subj, []byte(strconv.Itoa(k))))
			}
			flush(t, conns[i])
			for k := range 10 {
				assert.Equal(t, string(next(t, remote).Data), strconv.Itoa(k))
				assert.Equal(t, string(next(t, local).Data), strconv.Itoa(k))
			}
			// A round trip through both servers after the last message:
			// a duplicate would have arrived by now.
			flush(t, conns[i], conns[j])
			assert.Equal(t, pending(t, remote), 0, "%s: duplicates on %s", subj, nodes[j].Name())
			assert.Equal(t, pending(t, local), 0, "%s: duplicates on %s", subj, nodes[i].Name())
			assert.NilError(t, remote.Unsubscribe())
			assert.NilError(t, local.Unsubscribe())
		}
	}
}

// routingQueue: a queue group with members on every node receives every
// message published on any node exactly once, each node's members a share
// of them; a plain subscriber on each node receives all.
func routingQueue(t *testing.T, nodes []routingNode, conns []*nats.Conn) {
	const perNode, members = 300, 2
	var mu sync.Mutex
	got := map[string]int{}           // message -> deliveries to the group
	byNode := make([]int, len(nodes)) // deliveries to each node's members
	var subs []*nats.Subscription
	for i, nc := range conns {
		for range members {
			s, err := nc.QueueSubscribe("work", "workers", func(m *nats.Msg) {
				mu.Lock()
				got[string(m.Data)]++
				byNode[i]++
				mu.Unlock()
			})
			assert.NilError(t, err)
			subs = append(subs, s)
		}
	}
	observers := make([]*nats.Subscription, len(conns))
	for i, nc := range conns {
		var err error
		observers[i], err = nc.SubscribeSync("work")
		assert.NilError(t, err)
		flush(t, nc)
	}
	for i := range nodes {
		for j := range nodes {
			if i != j {
				waitInterest(t, nodes[i], nodes[j].Name(), "work", true)
			}
		}
	}
	for i, nc := range conns {
		for k := range perNode {
			assert.NilError(t, nc.Publish("work", fmt.Appendf(nil, "%d-%d", i, k)))
		}
	}
	total := perNode * len(conns)
	for i, nc := range conns {
		flush(t, nc)
		for range total {
			next(t, observers[i])
		}
	}
	waitFor(t, "every queue message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == total
	})
	flush(t, conns...)
	mu.Lock()
	defer mu.Unlock()
	for m, n := range got {
		assert.Equal(t, n, 1, "message %s delivered %d times to the group", m, n)
	}
	for i, n := range byNode {
		assert.Assert(t, n > 0, "%s's members got nothing (%v)", nodes[i].Name(), byNode)
	}
	for _, s := range append(subs, observers...) {
		assert.NilError(t, s.Unsubscribe())
	}
}

// routingRequest: a request from node i is answered by the one responder,
// on node j, for every ordered pair.
func routingRequest(t *testing.T, nodes []routingNode, conns []*nats.Conn) {
	for j := range nodes {
		subj := "svc." + nodes[j].Name()
		s, err := conns[j].Subscribe(subj, func(m *nats.Msg) { m.Respond(append([]byte("from "+nodes[j].Name()+": "), m.Data...)) })
		assert.NilError(t, err)
		flush(t, conns[j])
		for i := range nodes {
			if i == j {
				continue
			}
			waitInterest(t, nodes[i], nodes[j].Name(), subj, true)
			resp, err := conns[i].Request(subj, []byte(nodes[i].Name()), 5*time.Second)
			assert.NilError(t, err, "request %s -> %s", nodes[i].Name(), nodes[j].Name())
			assert.Equal(t, string(resp.Data), "from "+nodes[j].Name()+": "+nodes[i].Name())
		}
		assert.NilError(t, s.Unsubscribe())
	}
}

// routingHeaders: headers published on one node arrive on every other.
func routingHeaders(t *testing.T, nodes []routingNode, conns []*nats.Conn) {
	subs := make([]*nats.Subscription, len(conns))
	for j, nc := range conns {
		var err error
		subs[j], err = nc.SubscribeSync("hdr")
		assert.NilError(t, err)
		flush(t, nc)
	}
	for i := range nodes {
		for j := range nodes {
			if i != j {
				waitInterest(t, nodes[i], nodes[j].Name(), "hdr", true)
			}
		}
	}
	for i, nc := range conns {
		m := nats.NewMsg("hdr")
		m.Header.Set("X-From", nodes[i].Name())
		m.Data = []byte("with headers")
		assert.NilError(t, nc.PublishMsg(m))
		flush(t, nc)
		for j := range conns {
			got := next(t, subs[j])
			assert.Equal(t, got.Header.Get("X-From"), nodes[i].Name(), "on %s", nodes[j].Name())
			assert.Equal(t, string(got.Data), "with headers")
		}
	}
	for _, s := range subs {
		assert.NilError(t, s.Unsubscribe())
	}
}

// routingWildcards: "*" and ">" interest on one node catches what the
// others publish, once per matching subscription.
func routingWildcards(t *testing.T, nodes []routingNode, conns []*nats.Conn) {
	last := len(nodes) - 1
	star, err := conns[last].SubscribeSync("wild.*.x")
	assert.NilError(t, err)
	gt, err := conns[last].SubscribeSync("wild.>")
	assert.NilError(t, err)
	flush(t, conns[last])
	for i := range last {
		waitInterest(t, nodes[i], nodes[last].Name(), "wild.*.x", true)
		waitInterest(t, nodes[i], nodes[last].Name(), "wild.>", true)
		assert.NilError(t, conns[i].Publish("wild.a.x", []byte("1")))
		assert.NilError(t, conns[i].Publish("wild.a.b.c", []byte("2")))
		assert.NilError(t, conns[i].Publish("wild", []byte("none")))
		flush(t, conns[i], conns[last])
		assert.Equal(t, string(next(t, star).Data), "1")
		assert.Equal(t, string(next(t, gt).Data), "1")
		assert.Equal(t, string(next(t, gt).Data), "2")
		flush(t, conns[last])
		assert.Equal(t, pending(t, star)+pending(t, gt), 0)
	}
	assert.NilError(t, star.Unsubscribe())
	assert.NilError(t, gt.Unsubscribe())
}

// routingWithdrawal: once the only responder (on another node) has
// unsubscribed and the requester's node has seen the interest go, a
// request gets no-responders at once rather than waiting out its timeout.
func routingWithdrawal(t *testing.T, nodes []routingNode, conns []*nats.Conn) {
	for j := range nodes {
		i := (j + 1) % len(nodes)
		subj := "only." + nodes[j].Name()
		s, err := conns[j].Subscribe(subj, func(m *nats.Msg) { m.Respond([]byte("ok")) })
		assert.NilError(t, err)
		flush(t, conns[j])
		waitInterest(t, nodes[i], nodes[j].Name(), subj, true)
		_, err = conns[i].Request(subj, nil, 5*time.Second)
		assert.NilError(t, err)
		assert.NilError(t, s.Unsubscribe())
		flush(t, conns[j])
		waitInterest(t, nodes[i], nodes[j].Name(), subj, false)
		start := time.Now()
		_, err = conns[i].Request(subj, nil, 10*time.Second)
		assert.Assert(t, errors.Is(err, nats.ErrNoResponders), "request %s on %s after the responder left: %v", subj, nodes[i].Name(), err)
		assert.Assert(t, time.Since(start) < 5*time.Second)
	}
}

// checkVarzCluster: /varz has the cluster section and counts the routes'
// messages in the totals only.
func checkVarzCluster(t *testing.T, n *clusterNatsd, routes int) {
	t.Helper()
	resp, err := http.Get(n.monitorURL() + "/varz")
	assert.NilError(t, err)
	defer resp.Body.Close()
	var v struct {
		Routes  int `json:"routes"`
		Cluster struct {
			Name     string `json:"name"`
			Port     int    `json:"cluster_port"`
			PoolSize int    `json:"pool_size"`
		} `json:"cluster"`
		InMsgs        int64 `json:"in_msgs"`
		InClientMsgs  int64 `json:"in_client_msgs"`
		OutMsgs       int64 `json:"out_msgs"`
		OutClientMsgs int64 `json:"out_client_msgs"`
	}
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&v))
	assert.Equal(t, v.Routes, routes)
	assert.Equal(t, v.Cluster.Name, "c1")
	assert.Equal(t, v.Cluster.Port, urlPort(n.ClusterURL()))
	assert.Equal(t, v.Cluster.PoolSize, -1)
	assert.Assert(t, v.InMsgs > v.InClientMsgs && v.InClientMsgs > 0, "%+v", v)
	assert.Assert(t, v.OutMsgs > v.OutClientMsgs && v.OutClientMsgs > 0, "%+v", v)
}
