package lifecycle

import (
	"strconv"
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

// TestLargeMessages: bodies that straddle many reads (which the reader
// reads straight into pooled body buffers) arrive whole and unmixed, with
// and without headers, up to max_payload; one byte more is still refused.
func TestLargeMessages(t *testing.T) {
	const maxPayload = 4 << 20
	s := startServer(t, func(o *Options) { o.MaxPayload = maxPayload })
	pub := connect(t, s)
	subc := connect(t, s)
	sub, err := subc.SubscribeSync("big")
	assert.NilError(t, err)
	assert.NilError(t, subc.Flush())
	sizes := []int{16<<10 + 1, 64<<10 + 1, 300 << 10, 1 << 20, 1<<20 + 1, 3 << 20, maxPayload - 64}
	for round := range 2 {
		for i, size := range sizes {
			data := make([]byte, size)
			for j := range data {
				data[j] = byte(i + j + round)
			}
			m := nats.NewMsg("big")
			m.Data = data
			if i%2 == 1 {
				m.Header.Set("Size", strconv.Itoa(size))
			}
			assert.NilError(t, pub.PublishMsg(m))
		}
	}
	for round := range 2 {
		for i, size := range sizes {
			m, err := sub.NextMsg(10 * time.Second)
			assert.NilError(t, err, "round %d, size %d", round, size)
			assert.Equal(t, len(m.Data), size)
			for j, b := range m.Data {
				if b != byte(i+j+round) {
					t.Fatalf("round %d, size %d: byte %d is %d", round, size, j, b)
				}
			}
			if i%2 == 1 {
				assert.Equal(t, m.Header.Get("Size"), strconv.Itoa(size))
			}
		}
	}
	assert.ErrorIs(t, pub.Publish("big", make([]byte, maxPayload+1)), nats.ErrMaxPayload)
}
