package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/natsd/natsd/internal/testcert"
	"github.com/natsd/natsd/internal/tools"
	"golang.org/x/crypto/bcrypt"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// The authentication and authorization suites: every method through
// nats.go, the exact protocol lines on raw sockets and the nats CLI, each
// against natsd and against nats-server v2.15.2 started with the same
// config file, which must answer alike.

// nkeyUser is a generated nkey user: its public key, its seed file (for
// the nats CLI) and a nats.go option that signs the nonce.
type nkeyUser struct {
	pub, seedFile string
	kp            nkeys.KeyPair
}

func newNkeyUser(t *testing.T) nkeyUser {
	t.Helper()
	kp, err := nkeys.CreateUser()
	assert.NilError(t, err)
	pub, err := kp.PublicKey()
	assert.NilError(t, err)
	seed, err := kp.Seed()
	assert.NilError(t, err)
	f := filepath.Join(t.TempDir(), "user.nk")
	assert.NilError(t, os.WriteFile(f, seed, 0o600))
	return nkeyUser{pub: pub, seedFile: f, kp: kp}
}

func (u nkeyUser) option() nats.Option {
	return nats.Nkey(u.pub, func(nonce []byte) ([]byte, error) { return u.kp.Sign(nonce) })
}

func hashPassword(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	assert.NilError(t, err)
	return string(h)
}

// connectTo connects with nats.go and returns the connection or the error.
func connectTo(tg target, opts ...nats.Option) (*nats.Conn, error) {
	return nats.Connect(tg.url, append([]nats.Option{nats.NoReconnect(), nats.Timeout(5 * time.Second)}, opts...)...)
}

// roundTrip checks that nc can publish and receive on a subject.
func roundTrip(t *testing.T, nc *nats.Conn, subj string) {
	t.Helper()
	sub, err := nc.SubscribeSync(subj)
	assert.NilError(t, err)
	assert.NilError(t, nc.Publish(subj, []byte("hi")))
	m, err := sub.NextMsg(5 * time.Second)
	assert.NilError(t, err)
	assert.Equal(t, string(m.Data), "hi")
}

// TestAuthMethods: every authentication method, through nats.go, with
// good and bad credentials, against natsd and nats-server.
func TestAuthMethods(t *testing.T) {
	nk, other := newNkeyUser(t), newNkeyUser(t)
	hash := hashPassword(t, "s3cret")
	configs := map[string]string{
		"users": fmt.Sprintf(`authorization {
  users: [
    {user: plain, password: pw}
    {user: hashed, password: %q}
    {nkey: %s}
  ]
}
`, hash, nk.pub),
		"token":        "authorization { token: t0k3n }\n",
		"bcrypt token": fmt.Sprintf("authorization { token: %q }\n", hashPassword(t, "t0k3n")),
		"single user":  "authorization { user: a, password: b }\n",
		"no_auth_user": `authorization {
  users: [
    {user: anon, password: x, permissions: {publish: "anon.>", subscribe: "anon.>"}}
    {user: full, password: pw}
  ]
}
no_auth_user: anon
`,
	}
	type attempt struct {
		name string
		opts []nats.Option
		ok   bool
	}
	attempts := map[string][]attempt{
		"users": {
			{"plain", []nats.Option{nats.UserInfo("plain", "pw")}, true},
			{"plain, wrong password", []nats.Option{nats.UserInfo("plain", "PW")}, false},
			{"bcrypt", []nats.Option{nats.UserInfo("hashed", "s3cret")}, true},
			{"bcrypt, given the hash", []nats.Option{nats.UserInfo("hashed", hash)}, false},
			{"nkey", []nats.Option{nk.option()}, true},
			{"unknown nkey", []nats.Option{other.option()}, false},
			{"unknown user", []nats.Option{nats.UserInfo("who", "pw")}, false},
			{"anonymous", nil, false},
			{"token", []nats.Option{nats.Token("pw")}, false},
		},
		"token":        {{"token", []nats.Option{nats.Token("t0k3n")}, true}, {"wrong token", []nats.Option{nats.Token("nope")}, false}, {"anonymous", nil, false}},
		"bcrypt token": {{"token", []nats.Option{nats.Token("t0k3n")}, true}, {"wrong token", []nats.Option{nats.Token("nope")}, false}},
		"single user":  {{"user", []nats.Option{nats.UserInfo("a", "b")}, true}, {"wrong password", []nats.Option{nats.UserInfo("a", "c")}, false}, {"anonymous", nil, false}},
		"no_auth_user": {{"anonymous", nil, true}, {"full user", []nats.Option{nats.UserInfo("full", "pw")}, true}, {"wrong password", []nats.Option{nats.UserInfo("full", "x")}, false}},
	}
	for name, conf := range configs {
		t.Run(name, func(t *testing.T) {
			path := writeConf(t, conf)
			for _, tg := range both(t, path) {
				for _, a := range attempts[name] {
					nc, err := connectTo(tg, a.opts...)
					if !a.ok {
						assert.ErrorContains(t, err, "Authorization Violation", "%s: %s", tg.name, a.name)
						continue
					}
					assert.NilError(t, err, "%s: %s", tg.name, a.name)
					subj := "test.x"
					if name == "no_auth_user" && a.name == "anonymous" {
						subj = "anon.x" // no_auth_user's permissions apply
					}
					roundTrip(t, nc, subj)
					nc.Close()
				}
			}
		})
	}
}

// TestAuthWire: the protocol lines of authentication, compared with
// nats-server's: INFO's auth_required and nonce, the -ERR lines and the
// close, PING before CONNECT, the authentication timeout.
func TestAuthWire(t *testing.T) {
	nk := newNkeyUser(t)
	withNoAuth := writeConf(t, fmt.Sprintf(`authorization {
  timeout: 0.5
  users: [
    {user: app, password: %q}
    {user: other, password: other}
    {nkey: %s}
  ]
}
no_auth_user: other
`, hashPassword(t, "apppw"), nk.pub))
	strict := writeConf(t, "authorization {\n  timeout: \"500ms\"\n  users: [{user: app, password: pw}]\n}\n")
	type scenario struct {
		name   string
		send   string
		expect []string
	}
	for _, tc := range []struct {
		name         string
		conf         string
		authRequired bool
		nonce        bool
		scenarios    []scenario
	}{
		{"no_auth_user and nkeys", withNoAuth, false, true, []scenario{
			{"anonymous CONNECT", "CONNECT {\"verbose\":false}\r\nPING\r\n", []string{"PONG"}},
			{"PING first", "PING\r\n", []string{"PONG"}},
			{"bcrypt password", "CONNECT {\"verbose\":false,\"user\":\"app\",\"pass\":\"apppw\"}\r\nPING\r\n", []string{"PONG"}},
			{"wrong password", "CONNECT {\"verbose\":false,\"user\":\"app\",\"pass\":\"no\"}\r\nPING\r\n", []string{"-ERR 'Authorization Violation'", "EOF"}},
			{"nkey without signature", fmt.Sprintf("CONNECT {\"verbose\":false,\"nkey\":%q}\r\nPING\r\n", nk.pub), []string{"-ERR 'Authorization Violation'", "EOF"}},
			{"token against users", "CONNECT {\"verbose\":false,\"auth_token\":\"other\"}\r\nPING\r\n", []string{"-ERR 'Authorization Violation'", "EOF"}},
			{"silence", "", []string{"-ERR 'Authentication Timeout'", "EOF"}},
		}},
		{"users only", strict, true, false, []scenario{
			{"CONNECT", "CONNECT {\"verbose\":false,\"user\":\"app\",\"pass\":\"pw\"}\r\nPING\r\n", []string{"PONG"}},
			{"verbose CONNECT", "CONNECT {\"user\":\"app\",\"pass\":\"pw\"}\r\nPING\r\n", []string{"+OK", "PONG"}},
			{"PING first", "PING\r\n", []string{"-ERR 'Authorization Violation'", "EOF"}},
			{"SUB first", "SUB x 1\r\n", []string{"-ERR 'Authorization Violation'", "EOF"}},
			{"anonymous CONNECT", "CONNECT {\"verbose\":false}\r\nPING\r\n", []string{"-ERR 'Authorization Violation'", "EOF"}},
			{"partial CONNECT", "CONN", []string{"-ERR 'Authentication Timeout'", "EOF"}},
			{"silence", "", []string{"-ERR 'Authentication Timeout'", "EOF"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, tg := range both(t, tc.conf) {
				for _, sc := range tc.scenarios {
					w := dialWire(t, tg)
					assert.Equal(t, w.has("auth_required"), tc.authRequired, "%s: auth_required in %v", tg.name, w.info)
					assert.Equal(t, w.has("nonce"), tc.nonce, "%s: nonce in %v", tg.name, w.info)
					if sc.send != "" {
						w.send(sc.send)
					}
					for _, want := range sc.expect {
						assert.Equal(t, w.line(), want, "%s: %s", tg.name, sc.name)
					}
				}
			}
		})
	}
}

// permsConf gives users permissions for the permission suites.
const permsConf = `authorization {
  users: [
    {user: app, password: pw, permissions: {
      publish: {allow: ["pub.>", "sub.>", "q.>"], deny: ["pub.no"]}
      subscribe: {allow: ["sub.>", "q.* workers", "_INBOX.>"], deny: ["sub.secret"]}
    }}
    {user: svc, password: pw, permissions: {publish: {deny: [">"]}, subscribe: "req.>", allow_responses: true}}
    {user: svc2, password: pw, permissions: {subscribe: "req.>", allow_responses: {max: 2, expires: "1m"}}}
    {user: any, password: pw}
  ]
}
`

// TestPermissionsWire: the exact -ERR lines of permission violations,
// with the connection left open, compared with nats-server.
func TestPermissionsWire(t *testing.T) {
	conf := writeConf(t, permsConf)
	login := func(user string) string {
		return fmt.Sprintf("CONNECT {\"verbose\":false,\"user\":%q,\"pass\":\"pw\"}\r\n", user)
	}
	for _, tg := range both(t, conf) {
		t.Run(tg.name, func(t *testing.T) {
			w := dialWire(t, tg)
			w.send(login("app") + "PUB pub.no 2\r\nhi\r\nPING\r\n")
			w.expect(`-ERR 'Permissions Violation for Publish to "pub.no"'`, "PONG")
			w.send("PUB other 2\r\nhi\r\nPING\r\n")
			w.expect(`-ERR 'Permissions Violation for Publish to "other"'`, "PONG")
			w.send("SUB sub.secret 1\r\nPING\r\n")
			w.expect(`-ERR 'Permissions Violation for Subscription to "sub.secret"'`, "PONG")
			w.send("SUB q.x thieves 2\r\nPING\r\n")
			w.expect(`-ERR 'Permissions Violation for Subscription to "q.x" using queue "thieves"'`, "PONG")
			w.send("SUB q.x 3\r\nPING\r\n")
			w.expect(`-ERR 'Permissions Violation for Subscription to "q.x"'`, "PONG")
			w.send("PUB pub.ok _R_.abc 2\r\nhi\r\nPING\r\n")
			w.expect(`-ERR 'Permissions Violation for Publish with Reply of "_R_.abc"'`, "PONG")
			// Allowed: a wildcard subscription overlapping the deny list gets
			// the allowed subjects only; the queue subscription in its group.
			w.send("SUB sub.* 4\r\nSUB q.x workers 5\r\nPUB sub.secret 1\r\na\r\nPUB sub.ok 1\r\nb\r\nPUB q.x 1\r\nc\r\nPING\r\n")
			w.expect("MSG sub.ok 4 1", "b", "MSG q.x 5 1", "c", "PONG")
			// Published by another user, the denied subject is still filtered.
			w2 := dialWire(t, tg)
			w2.send(login("any") + "PUB sub.secret 1\r\nx\r\nPUB sub.fine 1\r\ny\r\nPING\r\n")
			w2.expect("PONG")
			w.send("PING\r\n")
			w.expect("MSG sub.fine 4 1", "y", "PONG")

			// allow_responses: publish is denied except to the reply subjects
			// of delivered requests, once each by default.
			s := dialWire(t, tg)
			s.send(login("svc") + "SUB req.> 1\r\nPING\r\n")
			s.expect("PONG")
			w2.send("SUB _INBOX.r1 9\r\nPUB req.a _INBOX.r1 1\r\nq\r\nPING\r\n")
			w2.expect("PONG")
			s.expect("MSG req.a 1 _INBOX.r1 1", "q")
			s.send("PUB _INBOX.r1 1\r\nA\r\nPUB _INBOX.r1 1\r\nB\r\nPUB anything 1\r\nC\r\nPING\r\n")
			s.expect(`-ERR 'Permissions Violation for Publish to "_INBOX.r1"'`, `-ERR 'Permissions Violation for Publish to "anything"'`, "PONG")
			w2.expect("MSG _INBOX.r1 9 1", "A")
			// max: 2
			s2 := dialWire(t, tg)
			s2.send(login("svc2") + "SUB req.> 1\r\nPING\r\n")
			s2.expect("PONG")
			w2.send("SUB _INBOX.r2 10\r\nPUB req.b _INBOX.r2 1\r\nq\r\nPING\r\n")
			w2.expect("PONG")
			s2.expect("MSG req.b 1 _INBOX.r2 1", "q")
			s2.send("PUB _INBOX.r2 1\r\nA\r\nPUB _INBOX.r2 1\r\nB\r\nPUB _INBOX.r2 1\r\nC\r\nPING\r\n")
			s2.expect(`-ERR 'Permissions Violation for Publish to "_INBOX.r2"'`, "PONG")
		})
	}
}

// TestPermissionsNatsGo: nats.go's error handler sees the violations and
// the connection stays up.
func TestPermissionsNatsGo(t *testing.T) {
	conf := writeConf(t, permsConf)
	for _, tg := range both(t, conf) {
		t.Run(tg.name, func(t *testing.T) {
			errs := make(chan error, 10)
			nc, err := connectTo(tg, nats.UserInfo("app", "pw"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
			assert.NilError(t, err)
			defer nc.Close()
			assert.NilError(t, nc.Publish("pub.no", []byte("x")))
			assert.NilError(t, nc.Flush())
			select {
			case err := <-errs:
				assert.ErrorContains(t, err, `Permissions Violation for Publish to "pub.no"`)
			case <-time.After(5 * time.Second):
				t.Fatal("no error reported")
			}
			_, err = nc.SubscribeSync("sub.secret")
			assert.NilError(t, err)
			assert.NilError(t, nc.Flush())
			select {
			case err := <-errs:
				assert.ErrorContains(t, err, `Permissions Violation for Subscription to "sub.secret"`)
			case <-time.After(5 * time.Second):
				t.Fatal("no error reported")
			}
			assert.Assert(t, nc.IsConnected())
			roundTrip(t, nc, "sub.ok")
			// A request through allow_responses.
			svc, err := connectTo(tg, nats.UserInfo("svc", "pw"))
			assert.NilError(t, err)
			defer svc.Close()
			_, err = svc.Subscribe("req.echo", func(m *nats.Msg) { m.Respond(append([]byte("echo "), m.Data...)) })
			assert.NilError(t, err)
			assert.NilError(t, svc.Flush())
			resp, err := nc.Request("sub.x", nil, 100*time.Millisecond)
			assert.Assert(t, err != nil, "no responder: %v", resp) // nobody on sub.x
			anyone, err := connectTo(tg, nats.UserInfo("any", "pw"))
			assert.NilError(t, err)
			defer anyone.Close()
			resp, err = anyone.Request("req.echo", []byte("hi"), 5*time.Second)
			assert.NilError(t, err)
			assert.Equal(t, string(resp.Data), "echo hi")
		})
	}
}

// TestNatsCLIAuth: nats pub and sub with --user/--password, --nkey and a
// token work as against nats-server, and wrong credentials fail alike.
func TestNatsCLIAuth(t *testing.T) {
	cli := tools.ForTest(t, tools.NatsCLI)
	nk := newNkeyUser(t)
	home := t.TempDir()
	conf := writeConf(t, fmt.Sprintf("authorization {\n  users: [\n    {user: app, password: %q}\n    {nkey: %s}\n  ]\n}\n", hashPassword(t, "pw"), nk.pub))
	tokenConf := writeConf(t, "authorization { token: s3cr3t }\n")
	run := func(tg target, args ...string) (string, error) {
		cmd := exec.Command(cli, append([]string{"-s", tg.url, "--timeout", "5s"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "NATS_CONTEXT=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, c := range []struct {
		name  string
		conf  string
		creds []string
		bad   []string
	}{
		{"user and password", conf, []string{"--user", "app", "--password", "pw"}, []string{"--user", "app", "--password", "nope"}},
		{"nkey", conf, []string{"--nkey", nk.seedFile}, []string{"--user", "app"}},
		{"token", tokenConf, []string{"--token", "s3cr3t"}, []string{"--token", "wrong"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var badOut []string
			for _, tg := range both(t, c.conf) {
				sub := exec.Command(cli, append([]string{"-s", tg.url, "sub", "cli.test", "--count", "1"}, c.creds...)...)
				sub.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home)
				out := &syncBuffer{}
				sub.Stdout, sub.Stderr = out, out
				assert.NilError(t, sub.Start())
				done := make(chan error, 1)
				go func() { done <- sub.Wait() }()
				poll.WaitOn(t, func(poll.LogT) poll.Result {
					if strings.Contains(out.String(), "Subscribing on cli.test") {
						return poll.Success()
					}
					return poll.Continue("waiting for nats sub: %s", out.String())
				}, poll.WithTimeout(20*time.Second))
				pubOut, err := run(tg, append([]string{"pub", "cli.test", "hello"}, c.creds...)...)
				assert.NilError(t, err, "%s: %s", tg.name, pubOut)
				select {
				case err := <-done:
					assert.NilError(t, err, "%s: %s", tg.name, out.String())
				case <-time.After(20 * time.Second):
					sub.Process.Kill()
					t.Fatalf("%s: nats sub got nothing: %s", tg.name, out.String())
				}
				assert.Assert(t, strings.Contains(out.String(), "hello"), out.String())
				bad, err := run(tg, append([]string{"pub", "cli.test", "hello"}, c.bad...)...)
				assert.Assert(t, err != nil, "%s: wrong credentials accepted: %s", tg.name, bad)
				badOut = append(badOut, lastLine(bad))
			}
			assert.Equal(t, badOut[0], badOut[1], "natsd and nats-server fail differently")
			assert.Assert(t, strings.Contains(badOut[0], "Authorization Violation"), badOut[0])
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestAuthTLSMap: tls { verify_and_map } names the user by the client
// certificate (its DNS SAN here), with that user's permissions.
func TestAuthTLSMap(t *testing.T) {
	certs := testcert.Write(t)
	conf := writeConf(t, fmt.Sprintf(`tls {
  cert_file: %q
  key_file: %q
  ca_file: %q
  verify_and_map: true
}
authorization {
  users: [
    {user: localhost, permissions: {publish: "mapped.>", subscribe: "mapped.>"}}
    {user: "CN=someone else"}
  ]
}
`, certs.ServerCert, certs.ServerKey, certs.CA))
	for _, tg := range both(t, conf) {
		t.Run(tg.name, func(t *testing.T) {
			errs := make(chan error, 4)
			nc, err := connectTo(tg, nats.Secure(certs.ClientConfig(t, true)), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
			assert.NilError(t, err)
			defer nc.Close()
			roundTrip(t, nc, "mapped.x")
			assert.NilError(t, nc.Publish("elsewhere", nil))
			assert.NilError(t, nc.Flush())
			select {
			case err := <-errs:
				assert.ErrorContains(t, err, `Permissions Violation for Publish to "elsewhere"`)
			case <-time.After(5 * time.Second):
				t.Fatal("the mapped user's permissions were not applied")
			}
			connz := getConnz(t, tg, "?auth=true")
			assert.Equal(t, connz.Connections[0].AuthorizedUser, "localhost")
			_, err = connectTo(tg, nats.Secure(certs.ClientConfig(t, false)))
			assert.Assert(t, err != nil, "a client without a certificate got in")
		})
	}
}

// connzReply is the part of /connz the auth tests read.
type connzReply struct {
	Connections []struct {
		CID            uint64 `json:"cid"`
		AuthorizedUser string `json:"authorized_user"`
		Account        string `json:"account"`
		Reason         string `json:"reason"`
	} `json:"connections"`
}

func getConnz(t *testing.T, tg target, query string) connzReply {
	t.Helper()
	resp, err := http.Get(tg.mon + "/connz" + query)
	assert.NilError(t, err)
	defer resp.Body.Close()
	var c connzReply
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&c))
	return c
}

// TestAuthMonitoring: /connz?auth=true shows who each client is, and the
// closed connections keep it with the authentication close reasons.
func TestAuthMonitoring(t *testing.T) {
	nk := newNkeyUser(t)
	conf := writeConf(t, fmt.Sprintf("authorization {\n  timeout: 0.5\n  users: [\n    {user: app, password: pw}\n    {nkey: %s}\n  ]\n}\n", nk.pub))
	for _, tg := range both(t, conf) {
		t.Run(tg.name, func(t *testing.T) {
			a, err := connectTo(tg, nats.UserInfo("app", "pw"))
			assert.NilError(t, err)
			b, err := connectTo(tg, nk.option())
			assert.NilError(t, err)
			users := map[string]bool{}
			for _, c := range getConnz(t, tg, "?auth=true").Connections {
				users[c.AuthorizedUser] = true
				assert.Equal(t, c.Account, "", "the global account is not shown")
			}
			assert.DeepEqual(t, users, map[string]bool{"app": true, nk.pub: true})
			assert.Equal(t, getConnz(t, tg, "").Connections[0].AuthorizedUser, "", "only with auth=true")
			a.Close()
			b.Close()
			w := dialWire(t, tg)
			w.send("CONNECT {\"user\":\"app\",\"pass\":\"bad\"}\r\n")
			w.expect("-ERR 'Authorization Violation'", "EOF")
			dialWire(t, tg).expect("-ERR 'Authentication Timeout'", "EOF")
			var reasons map[string]string
			poll.WaitOn(t, func(poll.LogT) poll.Result {
				reasons = map[string]string{}
				for _, c := range getConnz(t, tg, "?state=closed&auth=true").Connections {
					reasons[c.AuthorizedUser+"/"+c.Reason] = c.Reason
				}
				if len(reasons) == 4 {
					return poll.Success()
				}
				return poll.Continue("closed: %v", reasons)
			}, poll.WithTimeout(10*time.Second))
			for _, want := range []string{"app/Client Closed", nk.pub + "/Client Closed", "app/Authentication Failure", "/Authentication Timeout"} {
				_, ok := reasons[want]
				assert.Assert(t, ok, "%s: no closed connection %q in %v", tg.name, want, reasons)
			}
			if tg.name == "natsd" {
				resp, err := http.Get(tg.mon + "/lifecyclez")
				assert.NilError(t, err)
				defer resp.Body.Close()
				var lz struct {
					ClosedReasons map[string]int64 `json:"closed_reasons"`
				}
				assert.NilError(t, json.NewDecoder(resp.Body).Decode(&lz))
				assert.Equal(t, lz.ClosedReasons["Authentication Timeout"], int64(1), "%v", lz.ClosedReasons)
				assert.Equal(t, lz.ClosedReasons["Authentication Failure"], int64(1), "%v", lz.ClosedReasons)
			}
		})
	}
}

// TestAuthConfigRefusals: what nats-server refuses, natsd refuses (on -t
// as at start), with nats-server's text.
func TestAuthConfigRefusals(t *testing.T) {
	nk := newNkeyUser(t)
	ns := tools.ForTest(t, tools.NatsServer)
	for _, tc := range []struct{ name, conf, want string }{
		{"user and users", "authorization {\n  user: a\n  password: b\n  users: [{user: x, password: y}]\n}\n", "Can not have a single user/pass and a users array"},
		{"token and users", "authorization {\n  token: t\n  users: [{user: x, password: y}]\n}\n", "Can not have a token and a users array"},
		{"user and token", "authorization {\n  user: a\n  token: t\n}\n", "Cannot have a user/pass and token"},
		{"unknown no_auth_user", "authorization {\n  users: [{user: x, password: y}]\n}\nno_auth_user: z\n", `no_auth_user: "z" not present as user or nkey in authorization block or account configuration`},
		{"no_auth_user without users", "authorization {\n  user: a\n  password: b\n}\nno_auth_user: a\n", `no_auth_user: "a" present, but users/nkeys are not defined`},
		{"duplicate user", "authorization {\n  users: [{user: x, password: y}, {user: x, password: z}]\n}\n", `Duplicate user "x" detected`},
		{"nkey with password", fmt.Sprintf("authorization {\n  users: [{nkey: %s, password: y}]\n}\n", nk.pub), "Nkey users do not take usernames or passwords"},
		{"bad nkey", "authorization {\n  users: [{nkey: UBAD}]\n}\n", "Not a valid public nkey for a user"},
		{"user without name", "authorization {\n  users: [{password: y}]\n}\n", "User entry requires a user"},
		{"bad permission subject", "authorization {\n  users: [{user: x, permissions: {publish: [\"a..b\"]}}]\n}\n", `subject "a..b" is not a valid subject`},
		{"unknown permission key", "authorization {\n  users: [{user: x, permissions: {publsh: [\"a\"]}}]\n}\n", `Unknown field "publsh" parsing permissions`},
		{"unknown user key", "authorization {\n  users: [{user: x, colour: red}]\n}\n", `unknown field "colour"`},
		{"unknown authorization key", "authorization {\n  user: x\n  secret: y\n}\n", `unknown field "secret"`},
		{"allow and deny only", "authorization {\n  users: [{user: x, permissions: {publish: {allow: a, permit: b}}}]\n}\n", `Unknown field name "permit" parsing subject permissions, only 'allow' or 'deny' are permitted`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := writeConf(t, tc.conf)
			out := natsServerRefuses(t, ns, conf)
			assert.Assert(t, strings.Contains(out, tc.want), "nats-server says: %s", out)
			for _, args := range [][]string{{"-t", "-c", conf}, {"-c", conf, "-a", "127.0.0.1", "-p", "-1"}} {
				code, natsdOut := runNatsd(t, args...)
				assert.Equal(t, code, 1, natsdOut)
				assert.Assert(t, strings.Contains(natsdOut, tc.want), "natsd says: %s", natsdOut)
				assert.Assert(t, strings.HasPrefix(natsdOut, "natsd: "+conf+":"), "natsd's error is located: %s", natsdOut)
			}
		})
	}
}

// natsServerRefuses checks that nats-server refuses conf, on -t or (for
// what its -t does not check) at start, and returns what it said.
func natsServerRefuses(t *testing.T, ns, conf string) string {
	t.Helper()
	out, err := exec.Command(ns, "-t", "-c", conf).CombinedOutput()
	if err != nil {
		return string(out)
	}
	cmd := exec.Command(ns, "-c", conf, "-a", "127.0.0.1", "-p", "-1")
	timer := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	out, err = cmd.CombinedOutput()
	assert.Assert(t, err != nil, "nats-server starts with it: %s", out)
	return string(out)
}

// TestAuthFlags: --user/--pass and --auth (and nats-server's single-dash
// spellings) require credentials, overriding the file.
func TestAuthFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		good nats.Option
		bad  nats.Option
	}{
		{[]string{"--user", "u", "--pass", "p"}, nats.UserInfo("u", "p"), nats.UserInfo("u", "x")},
		{[]string{"-user", "u", "-pass", "p"}, nats.UserInfo("u", "p"), nil},
		{[]string{"-auth", "tok"}, nats.Token("tok"), nats.Token("x")},
		{[]string{"-c", writeConf(t, "authorization { token: file }\n"), "--auth", "flag"}, nats.Token("flag"), nats.Token("file")},
	} {
		p := startNatsd(t, tc.args...)
		tg := target{name: "natsd", url: p.url()}
		nc, err := connectTo(tg, tc.good)
		assert.NilError(t, err, "%v", tc.args)
		nc.Close()
		opts := []nats.Option{}
		if tc.bad != nil {
			opts = append(opts, tc.bad)
		}
		_, err = connectTo(tg, opts...)
		assert.ErrorContains(t, err, "Authorization Violation", "%v", tc.args)
	}
}

// TestTLSModes: tls { handshake_first } and allow_non_tls, through nats.go,
// against natsd and nats-server.
func TestTLSModes(t *testing.T) {
	certs := testcert.Write(t)
	block := fmt.Sprintf("tls {\n  cert_file: %q\n  key_file: %q\n", certs.ServerCert, certs.ServerKey)
	first := writeConf(t, block+"  handshake_first: true\n}\n")
	mixed := writeConf(t, block+"}\nallow_non_tls: true\n")
	for _, tg := range both(t, first) {
		nc, err := connectTo(tg, nats.Secure(certs.ClientConfig(t, false)), nats.TLSHandshakeFirst())
		assert.NilError(t, err, tg.name)
		roundTrip(t, nc, "tls.first")
		nc.Close()
		_, err = connectTo(tg, nats.Secure(certs.ClientConfig(t, false)))
		assert.Assert(t, err != nil, "%s: a client expecting INFO in the clear got in", tg.name)
	}
	for _, tg := range both(t, mixed) {
		w := dialWire(t, tg)
		assert.Assert(t, !w.has("tls_required") && w.info["tls_available"] == true, "%s: %v", tg.name, w.info)
		plain, err := connectTo(tg)
		assert.NilError(t, err, tg.name)
		roundTrip(t, plain, "tls.mixed")
		plain.Close()
		secure, err := connectTo(tg, nats.Secure(certs.ClientConfig(t, false)))
		assert.NilError(t, err, tg.name)
		roundTrip(t, secure, "tls.mixed")
		secure.Close()
	}
}

// TestAuthFromIncludedFile: an authorization block in an included file is
// applied (and its errors located in that file).
func TestAuthFromIncludedFile(t *testing.T) {
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "auth.conf"), []byte("authorization {\n  users: [{user: inc, password: pw}]\n}\n"), 0o644))
	conf := filepath.Join(dir, "main.conf")
	assert.NilError(t, os.WriteFile(conf, []byte("port: 4222\ninclude \"auth.conf\"\n"), 0o644))
	for _, tg := range both(t, conf) {
		_, err := connectTo(tg)
		assert.ErrorContains(t, err, "Authorization Violation", tg.name)
		nc, err := connectTo(tg, nats.UserInfo("inc", "pw"))
		assert.NilError(t, err, tg.name)
		nc.Close()
	}
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "auth.conf"), []byte("authorization {\n  users: [{user: inc, pasword: pw}]\n}\n"), 0o644))
	code, out := runNatsd(t, "-t", "-c", conf)
	assert.Equal(t, code, 1, out)
	assert.Equal(t, strings.TrimSpace(out), "natsd: "+filepath.Join(dir, "auth.conf")+":2: unknown field \"pasword\"")
}
