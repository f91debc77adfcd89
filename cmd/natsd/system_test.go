package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/natsd/natsd/internal/tools"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// sysConf has a system account with a user, and an application account.
const sysConf = `server_name: S1
accounts {
  SYS { users: [{user: sys, password: pw}] }
  APP { users: [{user: app, password: pw}] }
}
system_account: SYS
`

// natsCLI runs the nats CLI v0.5.0 against tg as user, with a private
// home (no saved context), and returns its output and error.
func natsCLI(t *testing.T, cli, home string, tg target, user string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(cli, append([]string{"-s", tg.url, "--user", user, "--password", "pw", "--timeout", "5s"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "NATS_CONTEXT=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestNatsCLIServerCommands: with a system user, the nats CLI's server
// commands work against natsd as against nats-server v2.15.2 with the same
// config — server list, ping, info, report connections, request
// subscriptions — and an ordinary account's user gets the same refusal.
func TestNatsCLIServerCommands(t *testing.T) {
	cli := tools.ForTest(t, tools.NatsCLI)
	home := t.TempDir()
	conf := writeConf(t, sysConf)
	refusals := map[string]string{}
	for _, tg := range both(t, conf) {
		t.Run(tg.name, func(t *testing.T) {
			app, err := connectTo(tg, nats.UserInfo("app", "pw"), nats.Name("app-conn"))
			assert.NilError(t, err)
			defer app.Close()
			_, err = app.SubscribeSync("orders.>")
			assert.NilError(t, err)
			assert.NilError(t, app.Flush())

			for _, c := range []struct {
				args []string
				want []string
			}{
				{[]string{"server", "list"}, []string{"Server Overview", "│ S1 ", "│ no │"}},
				{[]string{"server", "ping"}, []string{"S1", "1 replies"}},
				{[]string{"server", "info", "S1"}, []string{"Server information for S1", "Maximum Connections: 65,536", "Maximum Payload: 1.0 MiB", "Connections: 2"}},
				{[]string{"server", "report", "connections"}, []string{"Top 2 Connections out of 2", "app-conn", "APP", "SYS"}},
				{[]string{"server", "request", "subscriptions"}, []string{`"num_subscriptions":`, `"server":{"name":"S1"`}},
				{[]string{"server", "request", "subscriptions", "--detail", "--filter-account", "APP", "--filter-subject", "orders.new"}, []string{`"subject":"orders.\u003e"`, `"account":"APP"`}},
			} {
				out, err := natsCLI(t, cli, home, tg, "sys", c.args...)
				assert.NilError(t, err, "nats %s: %s", strings.Join(c.args, " "), out)
				for _, w := range c.want {
					assert.Assert(t, strings.Contains(out, w), "nats %s: want %q in:\n%s", strings.Join(c.args, " "), w, out)
				}
			}
			out, err := natsCLI(t, cli, home, tg, "app", "server", "ping")
			assert.Assert(t, err != nil, "an ordinary account reached the system account: %s", out)
			refusals[tg.name] = lastLine(out)
		})
	}
	assert.Equal(t, refusals["natsd"], refusals["nats-server"])
	assert.Assert(t, strings.Contains(refusals["natsd"], "status from $SYS.REQ.SERVER.PING"), refusals["natsd"])
}

// TestNatsCLIEvents: `nats events` shows connections and disconnections
// live, with their reason, as against nats-server.
func TestNatsCLIEvents(t *testing.T) {
	cli := tools.ForTest(t, tools.NatsCLI)
	home := t.TempDir()
	conf := writeConf(t, sysConf)
	for _, tg := range both(t, conf) {
		t.Run(tg.name, func(t *testing.T) {
			cmd := exec.Command(cli, "-s", tg.url, "--user", "sys", "--password", "pw", "events")
			cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "NATS_CONTEXT=")
			out := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			assert.NilError(t, cmd.Start())
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			t.Cleanup(func() { cmd.Process.Kill(); <-exited })
			waitOut := func(s string) {
				t.Helper()
				poll.WaitOn(t, func(poll.LogT) poll.Result {
					if strings.Contains(out.String(), s) {
						return poll.Success()
					}
					return poll.Continue("waiting for %q from nats events:\n%s", s, out.String())
				}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(20*time.Second))
			}
			waitOut("Listening for Authentication Errors")
			app, err := connectTo(tg, nats.UserInfo("app", "pw"), nats.Name("evented"))
			assert.NilError(t, err)
			waitOut("Client Connection")
			app.Close()
			waitOut("Reason: Client Closed")
			_, err = connectTo(tg, nats.UserInfo("app", "wrong"))
			assert.Assert(t, err != nil)
			waitOut("Reason: Authentication Failure")
			for _, w := range []string{"Server: S1", "Name: evented", "Account: APP", "Client Kind: Client"} {
				assert.Assert(t, strings.Contains(out.String(), w), "want %q in:\n%s", w, out.String())
			}
		})
	}
}
