package lifecycle

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
)

func TestPubSubSmoke(t *testing.T) {
	s := startServer(t, nil)
	nc := connect(t, s)
	sub, err := nc.SubscribeSync("foo.*")
	assert.NilError(t, err)
	assert.NilError(t, nc.Publish("foo.bar", []byte("hello")))
	m, err := sub.NextMsg(2 * time.Second)
	assert.NilError(t, err)
	assert.Equal(t, string(m.Data), "hello")
	assert.Equal(t, m.Subject, "foo.bar")
	_, err = nc.Request("nobody", nil, time.Second)
	assert.ErrorIs(t, err, nats.ErrNoResponders)
}
