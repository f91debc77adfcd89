package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/internal/tools"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// Accounts across a cluster: nats-server v2.15.2 and two natsd processes,
// all three with accountsConf, natsd seeded with the nats-server only.
// Stream and service imports work between every ordered pair of nodes
// with nats-server's single-hop semantics: a stream published in the
// exporting account on one node reaches the importing account's
// subscribers on another; a request imported on the requester's node is
// answered by a responder of the exporting account on another node, the
// answer coming back through the _R_ reply.

// clusterNode is one process of a test cluster: its client URL, its
// monitoring URL, its route URL and its output.
type clusterNode struct {
	name, url, mon, route string
	out                   *syncBuffer
}

// startNatsServerNode runs nats-server with conf as a cluster seed; extra
// are more flags (--routes to join other nodes).
func startNatsServerNode(t *testing.T, name, conf string, extra ...string) clusterNode {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-c", conf, "-a", "127.0.0.1", "-p", "-1", "-m", "-1",
		"-n", name, "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "c1", "--ports_file_dir", dir}
	cmd := exec.Command(tools.ForTest(t, tools.NatsServer), append(args, extra...)...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	assert.NilError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("nats-server %s output:\n%s", name, out.String())
		}
	})
	var ports struct{ Nats, Monitoring, Cluster []string }
	portsFile := filepath.Join(dir, fmt.Sprintf("nats-server_%d.ports", cmd.Process.Pid))
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		b, err := os.ReadFile(portsFile)
		if err != nil || json.Unmarshal(b, &ports) != nil || len(ports.Cluster) == 0 {
			return poll.Continue("waiting for nats-server's ports file")
		}
		return poll.Success()
	}, poll.WithDelay(5*time.Millisecond), poll.WithTimeout(20*time.Second))
	return clusterNode{name: name, url: ports.Nats[0], mon: ports.Monitoring[0],
		route: routeURL(ports.Cluster[0]), out: out}
}

// startNatsdNode runs natsd with conf, seeded with route ("": none).
func startNatsdNode(t *testing.T, name, conf, route string) clusterNode {
	t.Helper()
	args := []string{"-c", conf, "-m", "-1", "-n", name, "--cluster", "nats://127.0.0.1:-1", "--cluster_name", "c1"}
	if route != "" {
		args = append(args, "--routes", route)
	}
	return natsdNode(startNatsd(t, args...), name)
}

// natsdNode is the clusterNode of a running natsd process.
func natsdNode(p *proc, name string) clusterNode {
	ports := p.ports()
	n := clusterNode{name: name, url: ports.Nats[0], mon: ports.Monitoring[0], out: p.out}
	if len(ports.Cluster) > 0 {
		n.route = routeURL(ports.Cluster[0])
	}
	return n
}

// routeURL turns the cluster URL of a ports file (nats://, or tls:// with
// cluster TLS) into a route URL.
func routeURL(cluster string) string {
	return "nats-route://" + cluster[strings.Index(cluster, "://")+3:]
}

// routezSubs returns the subjects node's routes carry interest in, by
// remote server name.
func routezSubs(t *testing.T, node clusterNode) map[string][]string {
	t.Helper()
	resp, err := http.Get(node.mon + "/routez?subs=1")
	assert.NilError(t, err)
	defer resp.Body.Close()
	var rz struct {
		Routes []struct {
			RemoteName string   `json:"remote_name"`
			Subs       []string `json:"subscriptions_list"`
		} `json:"routes"`
	}
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&rz))
	out := map[string][]string{}
	for _, r := range rz.Routes {
		out[r.RemoteName] = append(out[r.RemoteName], r.Subs...)
	}
	return out
}

func TestClusterImportsAcrossNodes(t *testing.T) {
	prepareNatsd(t)
	conf := writeConf(t, accountsConf)
	a := startNatsServerNode(t, "A", conf)
	nodes := []clusterNode{a, startNatsdNode(t, "N1", conf, a.route), startNatsdNode(t, "N2", conf, a.route)}
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		for _, n := range nodes {
			if got := len(routezSubs(t, n)); got != 2 {
				return poll.Continue("%s has routes to %d servers", n.name, got)
			}
		}
		return poll.Success()
	}, poll.WithDelay(20*time.Millisecond), poll.WithTimeout(20*time.Second))
	connect := func(n clusterNode, user string) *nats.Conn {
		nc, err := nats.Connect(n.url, nats.UserInfo(user, "pw"), nats.NoReconnect(), nats.Timeout(5*time.Second))
		assert.NilError(t, err)
		t.Cleanup(nc.Close)
		return nc
	}
	app := make([]*nats.Conn, len(nodes))
	other := make([]*nats.Conn, len(nodes))
	for i, n := range nodes {
		app[i], other[i] = connect(n, "app"), connect(n, "other")
	}

	for i := range nodes {
		for j := range nodes {
			if i == j {
				continue
			}
			pair := nodes[i].name + "->" + nodes[j].name
			t.Run("stream "+pair, func(t *testing.T) {
				subj := "events." + nodes[i].name + "." + nodes[j].name
				sub, err := other[j].SubscribeSync("app." + subj)
				assert.NilError(t, err)
				defer sub.Unsubscribe()
				assert.NilError(t, other[j].Flush())
				// The import's interest reaches the exporter's node once the
				// importer subscribes (a shadow subscription): probe until
				// the first message passes.
				poll.WaitOn(t, func(poll.LogT) poll.Result {
					assert.NilError(t, app[i].Publish(subj, []byte("probe")))
					assert.NilError(t, app[i].Flush())
					if _, err := sub.NextMsg(50 * time.Millisecond); err == nil {
						return poll.Success()
					}
					return poll.Continue("no probe through %s", pair)
				}, poll.WithDelay(time.Millisecond), poll.WithTimeout(20*time.Second))
				for {
					if _, err := sub.NextMsg(100 * time.Millisecond); err != nil {
						break
					}
				}
				for k := range 20 {
					assert.NilError(t, app[i].Publish(subj, fmt.Appendf(nil, "%d", k)))
				}
				assert.NilError(t, app[i].Flush())
				for k := range 20 {
					m, err := sub.NextMsg(5 * time.Second)
					assert.NilError(t, err)
					assert.Equal(t, string(m.Data), fmt.Sprint(k))
					assert.Equal(t, m.Subject, "app."+subj)
				}
				assert.NilError(t, other[i].Flush())
				assert.NilError(t, other[j].Flush())
				n, _, _ := sub.Pending()
				assert.Equal(t, n, 0, "duplicates")
			})
			t.Run("service "+pair, func(t *testing.T) {
				// The responder, in the exporting account on node j, is the
				// only one.
				s, err := app[j].Subscribe("svc.echo", func(m *nats.Msg) {
					m.Respond(append([]byte(nodes[j].name+":"), m.Data...))
				})
				assert.NilError(t, err)
				defer s.Unsubscribe()
				assert.NilError(t, app[j].Flush())
				poll.WaitOn(t, func(poll.LogT) poll.Result {
					if slices.Contains(routezSubs(t, nodes[i])[nodes[j].name], "svc.echo") {
						return poll.Success()
					}
					return poll.Continue("%s does not see %s's responder", nodes[i].name, nodes[j].name)
				}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(20*time.Second))
				for k := range 3 {
					resp, err := other[i].Request("echo", fmt.Appendf(nil, "%d", k), 5*time.Second)
					assert.NilError(t, err, "request %d %s", k, pair)
					assert.Equal(t, string(resp.Data), fmt.Sprintf("%s:%d", nodes[j].name, k))
				}
				assert.NilError(t, s.Unsubscribe())
				assert.NilError(t, app[j].Flush())
				poll.WaitOn(t, func(poll.LogT) poll.Result {
					if !slices.Contains(routezSubs(t, nodes[i])[nodes[j].name], "svc.echo") {
						return poll.Success()
					}
					return poll.Continue("%s still sees %s's responder", nodes[i].name, nodes[j].name)
				}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(20*time.Second))
			})
		}
	}
}

// TestClusterSystemAccountAcrossNodes: natsd routes the system account
// by name, so a system user on either node reaches both servers' system
// services: `nats server ping` through natsd and through nats-server gets
// both answers and waits for no more (each counts the other in
// active_servers once it has heard its STATSZ), and `nats server list`
// lists both.
func TestClusterSystemAccountAcrossNodes(t *testing.T) {
	prepareNatsd(t)
	cli := tools.ForTest(t, tools.NatsCLI)
	home := t.TempDir()
	conf := writeConf(t, `accounts {
  SYS { users: [{user: sys, password: pw}] }
  APP { users: [{user: app, password: pw}] }
}
system_account: SYS
`)
	a := startNatsServerNode(t, "A", conf)
	n := startNatsdNode(t, "N", conf, a.route)
	for _, node := range []clusterNode{n, a} {
		tg := target{name: node.name, url: node.url}
		poll.WaitOn(t, func(poll.LogT) poll.Result {
			out, err := natsCLI(t, cli, home, tg, "sys", "server", "ping")
			if err == nil && strings.Contains(out, "2 replies") && !strings.Contains(out, "Missing") {
				return poll.Success()
			}
			return poll.Continue("nats server ping through %s (err %v):\n%s", node.name, err, out)
		}, poll.WithDelay(200*time.Millisecond), poll.WithTimeout(30*time.Second))
		out, err := natsCLI(t, cli, home, tg, "sys", "server", "ping")
		assert.NilError(t, err, out)
		assert.Assert(t, strings.Contains(out, "2 replies") && !strings.Contains(out, "Missing"), "nats server ping through %s:\n%s", node.name, out)
		out, err = natsCLI(t, cli, home, tg, "sys", "server", "list")
		assert.NilError(t, err, out)
		assert.Assert(t, strings.Contains(out, " A ") && strings.Contains(out, " N "), "nats server list through %s:\n%s", node.name, out)
	}
}
