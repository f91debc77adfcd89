package lifecycle

import (
	"testing"

	"github.com/natsd/natsd/lifecycle/monitor"
	"gotest.tools/v3/assert"
)

// /connz reports the number of a client's subscriptions and lists them
// only with subs=1, open or closed, sorted, as nats-server does.
func TestConnzSubscriptions(t *testing.T) {
	s := startServer(t, func(o *Options) { o.HTTPPort = RandomPort })
	c := dialRaw(t, s)
	c.send(quietConnect + "SUB b 1\r\nSUB a 2\r\nSUB c q 3\r\nUNSUB 3\r\nPING\r\n")
	assert.Equal(t, c.line(), "PONG")
	port := c.port()
	find := func(z *monitor.Connz) *monitor.ConnInfo {
		for _, ci := range z.Conns {
			if ci.Port == port {
				return ci
			}
		}
		t.Fatalf("no /connz entry for port %d", port)
		return nil
	}
	var plain, subs monitor.Connz
	monJSON(t, monURL(t, s)+"/connz", &plain)
	assert.Equal(t, find(&plain).NumSubs, uint32(2))
	assert.Assert(t, find(&plain).Subs == nil)
	monJSON(t, monURL(t, s)+"/connz?subs=1", &subs)
	assert.DeepEqual(t, find(&subs).Subs, []string{"a", "b"})

	assert.NilError(t, c.nc.Close())
	closedSnapshot(t, s, port)
	var closed monitor.Connz
	monJSON(t, monURL(t, s)+"/connz?state=closed&subs=1", &closed)
	assert.Equal(t, find(&closed).NumSubs, uint32(2))
	assert.DeepEqual(t, find(&closed).Subs, []string{"a", "b"})
}
