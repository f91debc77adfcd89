package lifecycle

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
)

// Rolling restart of a three-node natsd cluster by lame duck (issue 14):
// each node in turn is drained while a publisher on one of the other two
// sends sequence numbers to a subscriber on the third, and 30 clients on
// the drained node publish sequence numbers of their own and subscribe to
// the stream. The drained node is then started again on the same ports
// before the next one is drained.
//
// What must hold: every drained client reconnects to a node that stays
// up, and the stream between the nodes that stay up loses nothing. The
// figures (when the drained clients reconnected, what they lost) are
// logged as "figures:" lines, the source of docs/cluster.md's table.

const (
	rollClients  = 30
	rollDuration = 1500 * time.Millisecond // lame_duck_duration
	rollGrace    = 300 * time.Millisecond  // lame_duck_grace_period
	rollEvery    = time.Millisecond        // the stream's publish interval
	clientEvery  = 5 * time.Millisecond    // each drained client's
)

// rollNode is the fixed identity of one node: its name and ports.
type rollNode struct {
	name                    string
	clientPort, clusterPort int
}

func (r rollNode) url() string { return "nats://127.0.0.1:" + strconv.Itoa(r.clientPort) }

// drainedClient is one of the clients on the node being drained.
type drainedClient struct {
	nc         *nats.Conn
	mu         sync.Mutex
	disconnect time.Time
	reconnect  time.Time
	sent       int          // sequence numbers published
	streamSeen map[int]bool // the stream's messages it received
}

func TestClusterRollingRestart(t *testing.T) {
	var ids [3]rollNode
	for i := range ids {
		ids[i] = rollNode{name: "r" + strconv.Itoa(i+1), clientPort: freePort(t), clusterPort: freePort(t)}
	}
	var routes []string
	for _, id := range ids {
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(id.clusterPort))
	}
	start := func(id rollNode) *clusterNatsd {
		return startClusterNatsd(t, id.name, routes, func(o *Options) {
			o.Port, o.Cluster.Port = id.clientPort, id.clusterPort
			o.LameDuckDuration, o.LameDuckGracePeriod = rollDuration, rollGrace
		})
	}
	nodes := make([]*clusterNatsd, 3)
	for i, id := range ids {
		nodes[i] = start(id)
	}
	waitMesh(t, nodes[0], nodes[1], nodes[2])

	var figures []string
	for d := range nodes {
		pubNode, subNode := (d+1)%3, (d+2)%3
		figures = append(figures, rollPhase(t, ids, nodes, d, pubNode, subNode)...)
		nodes[d] = start(ids[d])
		waitMesh(t, nodes[0], nodes[1], nodes[2])
	}
	for _, f := range figures {
		t.Log("figures: " + f)
	}
}

// rollPhase drains nodes[d] while the stream runs from nodes[pubNode] to
// nodes[subNode], and returns the phase's figures.
func rollPhase(t *testing.T, ids [3]rollNode, nodes []*clusterNatsd, d, pubNode, subNode int) []string {
	drained := ids[d].url()
	pub := connectTo(t, nodes[pubNode].clientURL())
	sub := connectTo(t, nodes[subNode].clientURL())
	streamSubj := "roll.stream." + ids[d].name
	stream, err := sub.SubscribeSync(streamSubj)
	assert.NilError(t, err)
	var collMu sync.Mutex
	fromClients := make([]map[int]bool, rollClients) // what the collector got of each drained client
	for i := range fromClients {
		fromClients[i] = map[int]bool{}
	}
	_, err = sub.Subscribe("roll.client."+ids[d].name+".*", func(m *nats.Msg) {
		i, _ := strconv.Atoi(m.Subject[strings.LastIndexByte(m.Subject, '.')+1:])
		seq, _ := strconv.Atoi(string(m.Data))
		collMu.Lock()
		fromClients[i][seq] = true
		collMu.Unlock()
	})
	assert.NilError(t, err)
	flush(t, sub)

	clients := make([]*drainedClient, rollClients)
	allowReconnect := func(o *nats.Options) error { o.AllowReconnect = true; return nil }
	for i := range clients {
		dc := &drainedClient{streamSeen: map[int]bool{}}
		clients[i] = dc
		dc.nc = connectTo(t, drained, allowReconnect, nats.MaxReconnects(-1), nats.ReconnectWait(25*time.Millisecond),
			nats.ReconnectJitter(0, 0),
			// A write to a socket the server just closed is expected here;
			// nats.go would print it.
			nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}),
			nats.DisconnectErrHandler(func(*nats.Conn, error) {
				dc.mu.Lock()
				dc.disconnect = time.Now()
				dc.mu.Unlock()
			}),
			nats.ReconnectHandler(func(*nats.Conn) {
				dc.mu.Lock()
				dc.reconnect = time.Now()
				dc.mu.Unlock()
			}))
		_, err := dc.nc.Subscribe(streamSubj, func(m *nats.Msg) {
			seq, _ := strconv.Atoi(string(m.Data))
			dc.mu.Lock()
			dc.streamSeen[seq] = true
			dc.mu.Unlock()
		})
		assert.NilError(t, err)
		flush(t, dc.nc)
	}
	// The nodes that forward see the interest they forward to before
	// anything is published: the publisher's node the stream's subscribers
	// on both other nodes and the collector; the drained node the
	// collector.
	collector := "roll.client." + ids[d].name + ".*"
	waitSub := func(at, from int, subj string) {
		waitFor(t, fmt.Sprintf("%s's interest in %s on %s", ids[from].name, subj, ids[at].name), func() bool {
			for _, r := range nodes[at].Cluster().Routes() {
				if r.RemoteName == ids[from].name && slices.Contains(r.Subs, subj) {
					return true
				}
			}
			return false
		})
	}
	waitSub(pubNode, subNode, streamSubj)
	waitSub(pubNode, d, streamSubj)
	waitSub(pubNode, subNode, collector)
	waitSub(d, subNode, collector)

	// The publishers: the stream at rollEvery, each drained client at
	// clientEvery, until stop.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var streamSent int
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(rollEvery)
		defer tick.Stop()
		for seq := 0; ; seq++ {
			select {
			case <-stop:
				streamSent = seq
				return
			case <-tick.C:
			}
			if err := pub.Publish(streamSubj, []byte(strconv.Itoa(seq))); err != nil {
				t.Errorf("stream publish %d: %v", seq, err)
			}
		}
	}()
	for i, dc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(clientEvery)
			defer tick.Stop()
			subj := fmt.Sprintf("roll.client.%s.%d", ids[d].name, i)
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					dc.mu.Lock()
					dc.sent = seq
					dc.mu.Unlock()
					return
				case <-tick.C:
				}
				// While reconnecting nats.go buffers what is published.
				dc.nc.Publish(subj, []byte(strconv.Itoa(seq)))
			}
		}()
	}

	time.Sleep(100 * time.Millisecond) // the stream runs before the drain, as in production
	t0 := time.Now()
	assert.NilError(t, nodes[d].EnterLameDuck())
	nodes[d].WaitForShutdown()
	waitFor(t, "every drained client to reconnect", func() bool {
		for _, dc := range clients {
			if !dc.nc.IsConnected() {
				return false
			}
		}
		return true
	})
	time.Sleep(100 * time.Millisecond) // traffic after the last reconnect
	close(stop)
	wg.Wait()
	flush(t, pub)
	for _, dc := range clients {
		flush(t, dc.nc)
	}
	flush(t, sub)

	// The stream between the nodes that stay up lost nothing, in order.
	for seq := range streamSent {
		m, err := stream.NextMsg(5 * time.Second)
		assert.NilError(t, err, "stream message %d of %d (drain of %s)", seq, streamSent, ids[d].name)
		assert.Equal(t, string(m.Data), strconv.Itoa(seq), "drain of %s", ids[d].name)
	}
	assert.Equal(t, pending(t, stream), 0)

	var reconnects []time.Duration
	var gaps []time.Duration
	lost, missed := make([]int, len(clients)), make([]int, len(clients))
	for i, dc := range clients {
		url := dc.nc.ConnectedUrl()
		assert.Assert(t, url != drained && (url == ids[pubNode].url() || url == ids[subNode].url()),
			"client %d reconnected to %s", i, url)
		dc.mu.Lock()
		assert.Assert(t, !dc.reconnect.IsZero(), "client %d never reconnected", i)
		reconnects = append(reconnects, dc.reconnect.Sub(t0))
		gaps = append(gaps, dc.reconnect.Sub(dc.disconnect))
		collMu.Lock()
		lost[i] = dc.sent - len(fromClients[i])
		collMu.Unlock()
		missed[i] = streamSent - len(dc.streamSeen)
		dc.mu.Unlock()
		dc.nc.Close()
	}
	pub.Close()
	sub.Close()
	slices.Sort(reconnects)
	slices.Sort(gaps)
	slices.Sort(lost)
	slices.Sort(missed)
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	return []string{fmt.Sprintf("drain %s: stream %d msgs %s->%s lost 0; %d clients reconnected after %s/%s/%s ms (first/median/last after lame duck); away %s/%s/%s ms; published and lost per client %d/%d/%d (min/median/max); stream missed while away per client %d/%d/%d",
		ids[d].name, streamSent, ids[pubNode].name, ids[subNode].name, len(clients),
		ms(reconnects[0]), ms(reconnects[len(reconnects)/2]), ms(reconnects[len(reconnects)-1]),
		ms(gaps[0]), ms(gaps[len(gaps)/2]), ms(gaps[len(gaps)-1]),
		lost[0], lost[len(lost)/2], lost[len(lost)-1],
		missed[0], missed[len(missed)/2], missed[len(missed)-1])}
}
