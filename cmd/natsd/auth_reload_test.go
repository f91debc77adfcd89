package main

import (
	"os"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// reloadTo rewrites the config file and reloads the server (SIGHUP),
// waiting until it logged want (one more time than before).
func reloadTo(t *testing.T, tg target, conf, body, want string) {
	t.Helper()
	n := tg.logCount(want)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tg.hup()
	for tg.logCount(want) <= n {
		tg.waitLog(t, want)
		if tg.logCount(want) > n {
			break
		}
	}
}

// reloadFailed is what each server logs for a rejected reload.
func reloadFailed(tg target) string {
	if tg.name == "natsd" {
		return "Reload failed, keeping the running configuration"
	}
	return "Failed to reload server configuration"
}

// TestReloadAuthorization: SIGHUP applies changed users, passwords,
// tokens and permissions to the connected clients as nats-server does,
// compared step by step against nats-server.
func TestReloadAuthorization(t *testing.T) {
	const users = `authorization {
  users: [
    {user: a, password: pa}
    {user: b, password: pb}
    {user: c, password: pc, permissions: {subscribe: ">", publish: ">"}}
  ]
}
`
	for _, name := range []string{"natsd", "nats-server"} {
		t.Run(name, func(t *testing.T) {
			conf := writeConf(t, "port: 4222\n")
			var tg target
			if name == "natsd" {
				tg = natsdTarget(t, conf)
			} else {
				tg = natsServerTarget(t, conf)
			}
			// No authorization, then users: an anonymous client is closed
			// with an authorization violation.
			anon := dialWire(t, tg)
			anon.send("CONNECT {\"verbose\":false}\r\nPING\r\n")
			anon.expect("PONG")
			reloadTo(t, tg, conf, users, "Reloaded: authorization users")
			anon.expect("-ERR 'Authorization Violation'", "EOF")

			a, b, c := dialWire(t, tg), dialWire(t, tg), dialWire(t, tg)
			a.send(login2("a", "pa") + "SUB x 1\r\nPING\r\n")
			b.send(login2("b", "pb") + "SUB x 1\r\nPING\r\n")
			c.send(login2("c", "pc") + "SUB other 1\r\nSUB allowed.x 2\r\nSUB allowed.* 3\r\nPING\r\n")
			a.expect("PONG")
			b.expect("PONG")
			c.expect("PONG")

			// a's password changes: a is refused; b and c are untouched.
			// c's permissions change: its subscription on "other" is removed
			// with an -ERR naming its sid, the others stay, publishing is
			// now checked.
			reloadTo(t, tg, conf, strings.NewReplacer("pa}", "new}", `subscribe: ">", publish: ">"`, `subscribe: {allow: "allowed.>", deny: "allowed.secret"}, publish: "allowed.>"`).Replace(users),
				"Reloaded: authorization users")
			a.expect("-ERR 'Authorization Violation'", "EOF")
			c.expect(`-ERR 'Permissions Violation for Subscription to "other" (sid "1")'`)
			b.send("PUB x 2\r\nhi\r\nPUB other 1\r\no\r\nPUB allowed.x 1\r\nx\r\nPUB allowed.secret 1\r\ns\r\nPING\r\n")
			b.expect("MSG x 1 2", "hi", "PONG")
			// c gets allowed.x on both its subscriptions (in no set order) and
			// allowed.secret on neither: allowed.* is filtered per delivery.
			c.send("PUB other 1\r\no\r\nPING\r\n")
			got := map[string]int{}
			for l := c.line(); l != "PONG"; l = c.line() {
				got[l]++
			}
			assert.DeepEqual(t, got, map[string]int{"MSG allowed.x 2 1": 1, "MSG allowed.x 3 1": 1, "x": 2,
				`-ERR 'Permissions Violation for Publish to "other"'`: 1})
			fresh := dialWire(t, tg)
			fresh.send(login2("a", "new") + "PING\r\n")
			fresh.expect("PONG")

			// b is removed: closed without an -ERR (it would reconnect as
			// somebody else), as nats-server closes a client whose user is
			// gone.
			reloadTo(t, tg, conf, strings.NewReplacer("pa}", "new}", "    {user: b, password: pb}\n", "").Replace(users), "Reloaded: authorization users")
			b.expect("EOF")

			// An invalid config is refused; the running one stays.
			reloadTo(t, tg, conf, "authorization {\n  token: t\n  users: [{user: a, password: x}]\n}\n", reloadFailed(tg))
			again := dialWire(t, tg)
			again.send(login2("a", "new") + "PING\r\n")
			again.expect("PONG")
			fresh.send("PING\r\n")
			fresh.expect("PONG")

			// Users, then a token. natsd closes the users' clients (their user
			// is gone) and refuses them from then on. nats-server 2.15.2 keeps
			// its old users table when a reload switches to a token, so it
			// keeps those clients and still lets the removed users log in
			// (checked by hand: CONNECT as a/new gets PONG after the reload);
			// natsd does not copy that.
			reloadTo(t, tg, conf, "authorization { token: s3cret }\n", "Reloaded: authorization token")
			if tg.name == "natsd" {
				fresh.expect("EOF")
				gone := dialWire(t, tg)
				gone.send(login2("a", "new") + "PING\r\n")
				gone.expect("-ERR 'Authorization Violation'", "EOF")
			}
			tok := dialWire(t, tg)
			tok.send("CONNECT {\"verbose\":false,\"auth_token\":\"s3cret\"}\r\nPING\r\n")
			tok.expect("PONG")
		})
	}
}

func login2(user, pass string) string {
	return "CONNECT {\"verbose\":false,\"user\":\"" + user + "\",\"pass\":\"" + pass + "\"}\r\n"
}

// TestReloadAccounts: SIGHUP applies changed accounts: a client whose user
// moved to another account is closed, a new import works at once for the
// connected clients, as in nats-server.
func TestReloadAccounts(t *testing.T) {
	const before = `accounts {
  A { users: [{user: a, password: pw}, {user: m, password: pw}], exports: [{stream: "ev.>"}] }
  B { users: [{user: b, password: pw}] }
}
`
	const after = `accounts {
  A { users: [{user: a, password: pw}], exports: [{stream: "ev.>"}] }
  B {
    users: [{user: b, password: pw}, {user: m, password: pw}]
    imports: [{stream: {account: A, subject: "ev.>"}, prefix: a}]
  }
}
`
	for _, name := range []string{"natsd", "nats-server"} {
		t.Run(name, func(t *testing.T) {
			conf := writeConf(t, before)
			var tg target
			if name == "natsd" {
				tg = natsdTarget(t, conf)
			} else {
				tg = natsServerTarget(t, conf)
			}
			a, b, m := dialWire(t, tg), dialWire(t, tg), dialWire(t, tg)
			a.send(login2("a", "pw") + "PING\r\n")
			b.send(login2("b", "pw") + "SUB a.ev.> 1\r\nPING\r\n")
			m.send(login2("m", "pw") + "PING\r\n")
			a.expect("PONG")
			b.expect("PONG")
			m.expect("PONG")
			reloadTo(t, tg, conf, after, "Reloaded: accounts")
			m.expect("EOF")
			a.send("PUB ev.1 1\r\nx\r\nPING\r\n")
			a.expect("PONG")
			b.send("PING\r\n")
			b.expect("MSG a.ev.1 1 1", "x", "PONG")
		})
	}
}

// TestReloadNoAuthUserFixed: no_auth_user cannot change while running, as
// in nats-server.
func TestReloadNoAuthUserFixed(t *testing.T) {
	const base = "authorization {\n  users: [{user: a, password: pw}, {user: b, password: pw}]\n}\n"
	for _, name := range []string{"natsd", "nats-server"} {
		t.Run(name, func(t *testing.T) {
			conf := writeConf(t, base+"no_auth_user: a\n")
			var tg target
			if name == "natsd" {
				tg = natsdTarget(t, conf)
			} else {
				tg = natsServerTarget(t, conf)
			}
			reloadTo(t, tg, conf, base+"no_auth_user: b\n", reloadFailed(tg))
			tg.waitLog(t, "config reload not supported for")
			anon := dialWire(t, tg)
			anon.send("PING\r\n")
			anon.expect("PONG")
		})
	}
}
