package main

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// Queue groups in a cluster, against real processes: exactly one member of
// a group in the whole cluster gets each message, when the group belongs
// to an account that imports the stream (its members' shadows form the
// group in the exporting account), when the member the publishing server
// chose locally cannot take it (it goes to a member on another server),
// and when a server is sent a message for a group it has no member of any
// more (it passes it on). Each scenario also runs in a cluster of
// nats-server v2.15.2 nodes only, the behaviour natsd must match.

// queuesConf: OTHER imports APP's events; guarded (in APP) may not
// receive jobs.secret.
const queuesConf = `accounts {
  APP {
    users: [
      {user: app, password: pw}
      {user: guarded, password: pw, permissions: {subscribe: {allow: ">", deny: "jobs.secret"}}}
    ]
    exports: [{stream: "events.>"}]
  }
  OTHER {
    users: [{user: other, password: pw}]
    imports: [{stream: {account: APP, subject: "events.>"}, prefix: app}]
  }
}
`

// clusterKind is a topology of the tests: how to start n nodes with conf,
// all routed to each other.
type clusterKind struct {
	name  string
	start func(t *testing.T, conf string, n int) []clusterNode
}

var queueClusters = []clusterKind{
	{"nats-server+natsd", func(t *testing.T, conf string, n int) []clusterNode {
		nodes := []clusterNode{startNatsServerNode(t, "A", conf)}
		for i := 1; i < n; i++ {
			nodes = append(nodes, startNatsdNode(t, fmt.Sprintf("N%d", i), conf, nodes[0].route))
		}
		return nodes
	}},
	{"natsd", func(t *testing.T, conf string, n int) []clusterNode {
		nodes := []clusterNode{startNatsdNode(t, "N1", conf, "")}
		for i := 1; i < n; i++ {
			nodes = append(nodes, startNatsdNode(t, fmt.Sprintf("N%d", i+1), conf, nodes[0].route))
		}
		return nodes
	}},
	{"nats-server", func(t *testing.T, conf string, n int) []clusterNode {
		nodes := []clusterNode{startNatsServerNode(t, "A", conf)}
		for i := 1; i < n; i++ {
			nodes = append(nodes, startNatsServerNode(t, string(rune('A'+i)), conf, "--routes", nodes[0].route))
		}
		return nodes
	}},
}

// waitMesh waits until every node has a route to every other.
func waitMesh(t *testing.T, nodes []clusterNode) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		for _, n := range nodes {
			if got := len(routezSubs(t, n)); got != len(nodes)-1 {
				return poll.Continue("%s has routes to %d servers", n.name, got)
			}
		}
		return poll.Success()
	}, poll.WithDelay(20*time.Millisecond), poll.WithTimeout(20*time.Second))
}

// waitRemoteInterest waits until every node sees subj in the interest of
// each node in from (other than itself).
func waitRemoteInterest(t *testing.T, nodes []clusterNode, from []clusterNode, subj string) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		for _, n := range nodes {
			subs := routezSubs(t, n)
			for _, f := range from {
				if f.name != n.name && !slices.Contains(subs[f.name], subj) {
					return poll.Continue("%s does not see %s's interest in %s", n.name, f.name, subj)
				}
			}
		}
		return poll.Success()
	}, poll.WithDelay(20*time.Millisecond), poll.WithTimeout(20*time.Second))
}

func connectUser(t *testing.T, n clusterNode, user string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(n.url, append([]nats.Option{nats.UserInfo(user, "pw"), nats.NoReconnect(), nats.Timeout(5 * time.Second)}, opts...)...)
	assert.NilError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// member is one queue subscriber with a plain fence subscription on the
// same connection: once the fences of every publisher arrived, every
// message sent before them to this connection is in its pending list.
type member struct {
	node  int
	q     *nats.Subscription
	fence *nats.Subscription
}

// TestClusterImportQueueGroupExactlyOnce: a queue group of the importing
// account with two members on each of three nodes gets every stream
// message published in the exporter, on any node, exactly once in the
// cluster, and the members of every node a share.
func TestClusterImportQueueGroupExactlyOnce(t *testing.T) {
	prepareNatsd(t)
	conf := writeConf(t, queuesConf)
	for _, kind := range queueClusters {
		t.Run(kind.name, func(t *testing.T) {
			nodes := kind.start(t, conf, 3)
			waitMesh(t, nodes)
			var members []member
			for i, n := range nodes {
				for range 2 {
					nc := connectUser(t, n, "other")
					q, err := nc.QueueSubscribeSync("app.events.work", "workers")
					assert.NilError(t, err)
					fence, err := nc.SubscribeSync("app.events.fence")
					assert.NilError(t, err)
					assert.NilError(t, nc.Flush())
					members = append(members, member{i, q, fence})
				}
			}
			// The shadows' interest, in the exporting account.
			waitRemoteInterest(t, nodes, nodes, "events.work")
			waitRemoteInterest(t, nodes, nodes, "events.fence")
			const perNode = 200
			pubs := make([]*nats.Conn, len(nodes))
			for i, n := range nodes {
				pubs[i] = connectUser(t, n, "app")
				for k := range perNode {
					assert.NilError(t, pubs[i].Publish("events.work", fmt.Appendf(nil, "%d-%d", i, k)))
				}
				assert.NilError(t, pubs[i].Flush())
			}
			for _, p := range pubs {
				assert.NilError(t, p.Publish("events.fence", nil))
				assert.NilError(t, p.Flush())
			}
			got := map[string]int{}
			byNode := make([]int, len(nodes))
			for _, m := range members {
				for range pubs {
					_, err := m.fence.NextMsg(10 * time.Second)
					assert.NilError(t, err, "fence")
				}
				for {
					n, _, err := m.q.Pending()
					assert.NilError(t, err)
					if n == 0 {
						break
					}
					msg, err := m.q.NextMsg(time.Second)
					assert.NilError(t, err)
					got[string(msg.Data)]++
					byNode[m.node]++
				}
			}
			assert.Equal(t, len(got), perNode*len(nodes), "messages delivered (per node: %v)", byNode)
			for msg, n := range got {
				assert.Equal(t, n, 1, "message %s delivered %d times to the group", msg, n)
			}
			for i, n := range byNode {
				assert.Assert(t, n > 0, "%s's members got nothing (%v)", nodes[i].name, byNode)
			}
		})
	}
}

// TestClusterQueueFallbackToRemote: when every local member of a queue
// group fails to take a message the publishing server chose it for (the
// publisher itself, with echo off; a member whose permissions deny the
// subject), the message goes to the member on the other server, from
// either server of each pair.
func TestClusterQueueFallbackToRemote(t *testing.T) {
	prepareNatsd(t)
	conf := writeConf(t, queuesConf)
	for _, kind := range queueClusters {
		t.Run(kind.name, func(t *testing.T) {
			nodes := kind.start(t, conf, 2)
			waitMesh(t, nodes)
			for _, dir := range [][2]int{{0, 1}, {1, 0}} {
				local, remote := nodes[dir[0]], nodes[dir[1]]
				t.Run(local.name+"->"+remote.name, func(t *testing.T) {
					const n = 200
					far := connectUser(t, remote, "app")
					farSub, err := far.QueueSubscribeSync("jobs.*", "workers")
					assert.NilError(t, err)
					assert.NilError(t, far.Flush())
					waitRemoteInterest(t, []clusterNode{local}, []clusterNode{remote}, "jobs.*")

					// The publisher is the only local member, echo off.
					pub := connectUser(t, local, "app", nats.NoEcho())
					self, err := pub.QueueSubscribeSync("jobs.*", "workers")
					assert.NilError(t, err)
					// A local member that may not receive jobs.secret.
					guarded := connectUser(t, local, "guarded")
					deny, err := guarded.QueueSubscribeSync("jobs.*", "workers")
					assert.NilError(t, err)
					assert.NilError(t, guarded.Flush())
					assert.NilError(t, pub.Flush())
					for k := range n {
						assert.NilError(t, pub.Publish("jobs.secret", fmt.Appendf(nil, "%d", k)))
					}
					assert.NilError(t, pub.Flush())
					for k := range n {
						m, err := farSub.NextMsg(10 * time.Second)
						assert.NilError(t, err, "message %d", k)
						assert.Equal(t, string(m.Data), fmt.Sprint(k))
					}
					assert.NilError(t, far.Flush())
					for _, s := range []*nats.Subscription{farSub, self, deny} {
						pending, _, err := s.Pending()
						assert.NilError(t, err)
						assert.Equal(t, pending, 0, "nothing more, nothing locally")
					}
				})
			}
		})
	}
}

// TestClusterRoutedQueueWithoutLocalMember: a server sent a message for a
// queue group it has no member of any more (a scripted route peer sends
// RMSG ... | workers to it) passes the message on to a member on another
// server, as nats-server does; its plain subscribers get it as usual.
func TestClusterRoutedQueueWithoutLocalMember(t *testing.T) {
	prepareNatsd(t)
	conf := writeConf(t, "")
	for _, kind := range queueClusters[1:] {
		t.Run(kind.name, func(t *testing.T) {
			nodes := kind.start(t, conf, 2)
			b, c := nodes[0], nodes[1]
			waitMesh(t, nodes)
			cc, err := nats.Connect(c.url, nats.NoReconnect())
			assert.NilError(t, err)
			defer cc.Close()
			member, err := cc.QueueSubscribeSync("foo", "workers")
			assert.NilError(t, err)
			assert.NilError(t, cc.Flush())
			bc, err := nats.Connect(b.url, nats.NoReconnect())
			assert.NilError(t, err)
			defer bc.Close()
			plain, err := bc.SubscribeSync("foo")
			assert.NilError(t, err)
			assert.NilError(t, bc.Flush())
			waitRemoteInterest(t, []clusterNode{b}, []clusterNode{c}, "foo")

			x, err := net.Dial("tcp", strings.TrimPrefix(b.route, "nats-route://"))
			assert.NilError(t, err)
			defer x.Close()
			r := bufio.NewReader(x)
			fmt.Fprint(x, `CONNECT {"echo":true,"verbose":false,"pedantic":false,"tls_required":false,"headers":true,"name":"XPEER","cluster":"c1"}`+"\r\n")
			fmt.Fprint(x, `INFO {"server_id":"XPEER","server_name":"X","version":"2.15.2","proto":3,"host":"127.0.0.1","port":1,"headers":true,"max_payload":1048576,"cluster":"c1","compression":"off"}`+"\r\n")
			fmt.Fprint(x, "PING\r\n")
			assert.NilError(t, x.SetReadDeadline(time.Now().Add(10*time.Second)))
			for {
				l, err := r.ReadString('\n')
				assert.NilError(t, err, "waiting for the PONG")
				if strings.HasPrefix(l, "PING") {
					fmt.Fprint(x, "PONG\r\n")
				}
				if strings.HasPrefix(l, "PONG") {
					break
				}
			}
			const n = 20
			for k := range n {
				fmt.Fprintf(x, "RMSG $G foo | workers %d\r\n%d\r\n", len(fmt.Sprint(k)), k)
			}
			for k := range n {
				m, err := member.NextMsg(10 * time.Second)
				assert.NilError(t, err, "message %d", k)
				assert.Equal(t, string(m.Data), fmt.Sprint(k))
				m, err = plain.NextMsg(10 * time.Second)
				assert.NilError(t, err, "plain %d", k)
				assert.Equal(t, string(m.Data), fmt.Sprint(k))
			}
		})
	}
}
