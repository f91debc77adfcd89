package main

import (
	"bytes"
	"strings"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"
	"gotest.tools/v3/assert"
)

// TestTrace: -V logs protocol lines in and out, payloads truncated at
// --max_traced_msg_len, and no debug lines; -DV logs both.
func TestTrace(t *testing.T) {
	for _, tc := range []struct {
		flag      string
		wantDebug bool
	}{{"-V", false}, {"-DV", true}} {
		t.Run(tc.flag, func(t *testing.T) {
			p := startNatsd(t, tc.flag, "--max_traced_msg_len", "8")
			nc, err := nats.Connect(p.url(), nats.NoReconnect())
			assert.NilError(t, err)
			sub, err := nc.SubscribeSync("trace.me")
			assert.NilError(t, err)
			assert.NilError(t, nc.Publish("trace.me", bytes.Repeat([]byte("p"), 20)))
			_, err = sub.NextMsg(5e9)
			assert.NilError(t, err)
			nc.Close()
			p.waitLog(`"<<- [PUB trace.me 20]"`)
			p.waitLog(`"<<- [SUB trace.me 1]"`)
			p.waitLog(`"->> [MSG trace.me 1 20]"`)
			p.waitLog(`"<<- MSG_PAYLOAD: [\"pppppppp...\"]"`)
			p.waitLog(`[TRC] `)
			p.signal(syscall.SIGTERM)
			assert.Equal(t, p.wait(), 0)
			assert.Equal(t, strings.Contains(p.out.String(), "[DBG] "), tc.wantDebug, p.out.String())
		})
	}
}
