package system

import (
	"encoding/json"
	"strings"
	"time"
)

// Defaults of the remote-server bookkeeping, as nats-server's: a server
// not heard from for 5 STATSZ heartbeats of 30 s is taken as gone, checked
// every 90 s.
const (
	DefaultOrphanAfter = 150 * time.Second
	DefaultOrphanSweep = 90 * time.Second
)

// The subjects on which the other servers of the cluster are heard.
const (
	remoteStatszSubject   = serverEventPrefix + "*.STATSZ"
	remoteShutdownSubject = serverEventPrefix + "*.SHUTDOWN"
	remoteLameDuckSubject = serverEventPrefix + "*.LAMEDUCK"
)

// remoteSubs are the internal subscriptions that hear the other servers.
var remoteSubs = []struct {
	subject string
	handle  func(*Client, *inMsg)
}{
	{remoteStatszSubject, (*Client).remoteStatsz},
	{remoteShutdownSubject, (*Client).remoteGone},
	{remoteLameDuckSubject, (*Client).remoteGone},
}

// remoteServer is what the client knows of another server: the sequence
// number of its last STATSZ and when that came.
type remoteServer struct {
	seq  uint64
	last time.Time
}

// remoteStatsz records the server that sent a STATSZ (not this one).
// It runs on the work loop, which alone touches c.remotes.
func (c *Client) remoteStatsz(m *inMsg) {
	var ssm ServerStatsMsg
	if json.Unmarshal(m.payload, &ssm) != nil || ssm.Server.ID == "" || ssm.Server.ID == c.cfg.ID {
		return
	}
	c.remotes[ssm.Server.ID] = remoteServer{seq: ssm.Server.Seq, last: time.Now()}
}

// remoteGone forgets the server whose SHUTDOWN or LAMEDUCK event m is:
// nats-server treats both alike, the server no longer counts as active.
func (c *Client) remoteGone(m *inMsg) {
	toks := strings.Split(m.subj, ".")
	if len(toks) < 4 || len(m.payload) == 0 {
		return
	}
	delete(c.remotes, toks[2])
}

// sweepRemotes forgets the servers not heard from for OrphanAfter: they
// went away without a SHUTDOWN event.
func (c *Client) sweepRemotes(now time.Time) {
	for id, rs := range c.remotes {
		if now.Sub(rs.last) > c.cfg.OrphanAfter {
			c.cfg.Log.Debugf("System account: no STATSZ from server %s for %v, taken as gone", id, c.cfg.OrphanAfter)
			delete(c.remotes, id)
		}
	}
}

// activeServers is this server and every other heard from: STATSZ's
// active_servers, from which `nats server ping` knows how many answers to
// wait for.
func (c *Client) activeServers() int { return 1 + len(c.remotes) }
