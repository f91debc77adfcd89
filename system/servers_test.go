package system

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"gotest.tools/v3/assert"
)

// TestRemoteServers: active_servers counts this server and every other
// whose STATSZ it heard (its own STATSZ, coming back through its own
// subscription, not among them); a SHUTDOWN or LAMEDUCK event removes a
// server at once, and silence longer than OrphanAfter at the next sweep.
func TestRemoteServers(t *testing.T) {
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	c := &Client{cfg: Config{ID: "SELF", OrphanAfter: time.Minute, Log: log}, remotes: map[string]remoteServer{}}
	statsz := func(id string, seq uint64) *inMsg {
		b, err := json.Marshal(&ServerStatsMsg{Server: ServerInfo{ID: id, Seq: seq}})
		assert.NilError(t, err)
		return &inMsg{subj: serverSubject(id, "STATSZ"), payload: b}
	}
	event := func(id, what string) *inMsg {
		return &inMsg{subj: serverSubject(id, what), payload: []byte(`{"id":"` + id + `"}`)}
	}
	steps := []struct {
		name string
		do   func()
		want int
	}{
		{"alone", func() {}, 1},
		{"own STATSZ", func() { c.remoteStatsz(statsz("SELF", 1)) }, 1},
		{"A heard", func() { c.remoteStatsz(statsz("A", 1)) }, 2},
		{"A again", func() { c.remoteStatsz(statsz("A", 2)) }, 2},
		{"B heard", func() { c.remoteStatsz(statsz("B", 7)) }, 3},
		{"not JSON", func() { c.remoteStatsz(&inMsg{subj: serverSubject("C", "STATSZ"), payload: []byte("x")}) }, 3},
		{"A lame duck", func() { c.remoteGone(event("A", "LAMEDUCK")) }, 2},
		{"empty SHUTDOWN ignored", func() { c.remoteGone(&inMsg{subj: serverSubject("B", "SHUTDOWN")}) }, 2},
		{"B shut down", func() { c.remoteGone(event("B", "SHUTDOWN")) }, 1},
		{"A back", func() { c.remoteStatsz(statsz("A", 1)) }, 2},
		{"sweep, A recent", func() { c.sweepRemotes(time.Now().Add(30 * time.Second)) }, 2},
		{"sweep, A silent too long", func() { c.sweepRemotes(time.Now().Add(2 * time.Minute)) }, 1},
	}
	for _, s := range steps {
		s.do()
		assert.Equal(t, c.activeServers(), s.want, s.name)
	}
}
