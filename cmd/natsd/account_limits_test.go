package main

import (
	"fmt"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// TestAccountMaxSubscriptions: an account's limits { max_subscriptions }
// caps each of its connections, and the smaller of the server's and the
// account's limit holds, as in nats-server (issue 17). The same transcript
// is checked against nats-server.
func TestAccountMaxSubscriptions(t *testing.T) {
	conf := writeConf(t, `max_subscriptions: 4
accounts {
  A { users: [{user: a, password: a}], limits { max_subscriptions: 2 } }
  B { users: [{user: b, password: b}], limits { max_subs: 10 } }
  C { users: [{user: c, password: c}] }
}
`)
	// How many of 6 SUBs each user's connection may make.
	want := map[string]int{"a": 2, "b": 4, "c": 4}
	for _, tg := range both(t, conf) {
		for user, n := range want {
			w := dialWire(t, tg)
			var b strings.Builder
			fmt.Fprintf(&b, "CONNECT {\"verbose\":false,\"user\":%q,\"pass\":%q}\r\n", user, user)
			for i := range 6 {
				fmt.Fprintf(&b, "SUB s.%d %d\r\n", i, i)
			}
			b.WriteString("PING\r\n")
			w.send(b.String())
			errs := 0
			for l := w.line(); l != "PONG"; l = w.line() {
				assert.Equal(t, l, "-ERR 'maximum subscriptions exceeded'", "%s, user %s", tg.name, user)
				errs++
			}
			assert.Equal(t, errs, 6-n, "%s, user %s", tg.name, user)
		}
	}
}

// TestAccountLimitsRefusals: the account limits natsd does not implement
// are refused by name; an unknown one is an unknown field.
func TestAccountLimitsRefusals(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"accounts {\n  A {\n    limits {\n      max_connections: 3\n    }\n  }\n}\n", ":4: account limits max_connections is not supported by natsd"},
		{"accounts {\n  A {\n    limits {\n      max_colour: 3\n    }\n  }\n}\n", ":4: unknown field \"max_colour\""},
	} {
		conf := writeConf(t, tc.body)
		code, out := runNatsd(t, "-t", "-c", conf)
		assert.Equal(t, code, 1, out)
		assert.Assert(t, strings.Contains(out, tc.want), out)
	}
}
