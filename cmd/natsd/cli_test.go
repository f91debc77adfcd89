package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/natsd/natsd/internal/tools"
	"github.com/natsd/natsd/lifecycle"
	"gotest.tools/v3/assert"
)

// parse parses args as natsd would and returns the settings.
func parse(t *testing.T, args ...string) (*CLI, *settings, error) {
	t.Helper()
	var cli CLI
	p, err := kong.New(&cli, kong.Exit(func(int) { t.Fatal("kong exited") }))
	assert.NilError(t, err)
	norm, err := normalizeArgs(args)
	if err != nil {
		return nil, nil, err
	}
	if _, err := p.Parse(norm); err != nil {
		return nil, nil, err
	}
	st, _, err := buildSettings(&cli)
	return &cli, st, err
}

// TestFlagsParseToOptions: each of nats-server's spellings of each flag
// reaches the right option.
func TestFlagsParseToOptions(t *testing.T) {
	cases := []struct {
		args  []string
		check func(*testing.T, *CLI, *settings)
	}{
		{[]string{"-a", "127.0.0.2"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.Host, "127.0.0.2") }},
		{[]string{"--addr", "h"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.Host, "h") }},
		{[]string{"--net", "h"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.Host, "h") }},
		{[]string{"-net", "h"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.Host, "h") }},
		{[]string{"-p", "4333"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.Port, 4333) }},
		{[]string{"-port", "4333"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.Port, 4333) }},
		{[]string{"--port=4333"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.Port, 4333) }},
		{[]string{"-p", "-1"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.Port, -1) }},
		{[]string{"-n", "x"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.ServerName, "x") }},
		{[]string{"--server_name", "x"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.ServerName, "x") }},
		{[]string{"-P", "/tmp/p"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.PidFile, "/tmp/p") }},
		{[]string{"--pid", "/tmp/p"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.PidFile, "/tmp/p") }},
		{[]string{"--ports_file_dir", "/tmp"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.PortsFileDir, "/tmp") }},
		{[]string{"-m", "8222"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.HTTPPort, 8222) }},
		{[]string{"--http_port", "-1"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.HTTPPort, -1) }},
		{[]string{"--profile", "6060"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Server.ProfPort, 6060) }},
		{[]string{"-l", "/tmp/l"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Log.File, "/tmp/l") }},
		{[]string{"-D"}, func(t *testing.T, _ *CLI, s *settings) { assert.Assert(t, s.Log.Debug && !s.Log.Trace) }},
		{[]string{"-V"}, func(t *testing.T, _ *CLI, s *settings) { assert.Assert(t, !s.Log.Debug && s.Log.Trace) }},
		{[]string{"-DV"}, func(t *testing.T, _ *CLI, s *settings) { assert.Assert(t, s.Log.Debug && s.Log.Trace) }},
		{[]string{"-T=false"}, func(t *testing.T, _ *CLI, s *settings) { assert.Assert(t, !s.Log.Logtime) }},
		{[]string{}, func(t *testing.T, _ *CLI, s *settings) { assert.Assert(t, s.Log.Logtime) }},
		{[]string{"--logtime_utc"}, func(t *testing.T, _ *CLI, s *settings) { assert.Assert(t, s.Log.LogtimeUTC) }},
		{[]string{"--log_format", "json"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Log.Format, "json") }},
		{[]string{"--max_traced_msg_len", "10"}, func(t *testing.T, _ *CLI, s *settings) { assert.Equal(t, s.Log.MaxTracedMsgLen, 10) }},
		{[]string{"-sl", "ldm=/tmp/p"}, func(t *testing.T, c *CLI, _ *settings) { assert.Equal(t, c.Signal, "ldm=/tmp/p") }},
		{[]string{"--signal", "reload"}, func(t *testing.T, c *CLI, _ *settings) { assert.Equal(t, c.Signal, "reload") }},
		{[]string{"-t"}, func(t *testing.T, c *CLI, _ *settings) { assert.Assert(t, c.CheckConfig) }},
		{[]string{"-v"}, func(t *testing.T, c *CLI, _ *settings) { assert.Assert(t, c.Version) }},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cli, st, err := parse(t, tc.args...)
			assert.NilError(t, err)
			tc.check(t, cli, st)
		})
	}
}

func TestFlagsOverrideConfigFile(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "c.conf")
	assert.NilError(t, os.WriteFile(conf, []byte("port: 5222\nserver_name: fromfile\nmax_payload: 2048\nlame_duck_duration: \"40s\"\nlame_duck_grace_period: 5s\nshutdown_timeout: 3\ndebug: true\n"), 0o644))
	_, st, err := parse(t, "-c", conf, "-p", "6222")
	assert.NilError(t, err)
	assert.Equal(t, st.Server.Port, 6222)
	assert.Equal(t, st.Server.ServerName, "fromfile")
	assert.Equal(t, st.Server.MaxPayload, 2048)
	assert.Equal(t, st.Server.LameDuckDuration, 40*time.Second)
	assert.Equal(t, st.Server.LameDuckGracePeriod, 5*time.Second)
	assert.Equal(t, st.Server.ShutdownTimeout, 3*time.Second)
	assert.Assert(t, st.Log.Debug)
}

// TestNatsServerConfigStartsUnchanged: a config written for nats-server,
// with every option natsd reads, is accepted as is.
func TestNatsServerConfigStartsUnchanged(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "nats-server.conf")
	assert.NilError(t, os.WriteFile(conf, []byte(`# written for nats-server
NAME = "n1"
listen: 127.0.0.1:4999
server_name: $NAME
http_port: 8999
pid_file: "/tmp/nats.pid"
ports_file_dir: "/tmp"
max_connections: 100
max_payload: 1MB
max_control_line: 2KB
max_pending: 64MB
ping_interval: "30s"
ping_max: 3
write_deadline: "5s"
lame_duck_duration: "30s"
lame_duck_grace_period: "5s"
log_file: "/tmp/nats.log"
debug: false
trace: false
logtime: true
`), 0o644))
	_, st, err := parse(t, "-c", conf)
	assert.NilError(t, err)
	o := st.Server
	assert.DeepEqual(t, []any{o.Host, o.Port, o.ServerName, o.HTTPPort, o.MaxConn, o.MaxPayload, o.MaxControlLine, o.MaxPending, o.PingInterval, o.PingMax, o.WriteDeadline},
		[]any{"127.0.0.1", 4999, "n1", 8999, 100, 1024 * 1024, 2048, int64(64 * 1024 * 1024), 30 * time.Second, 3, 5 * time.Second})
}

// TestBadInput: every bad flag or config gives one line naming the problem
// with a hint to --help, and exit code 1 (the built binary is run).
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		assert.NilError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	unreadable := write("unreadable.conf", "port: 1\n")
	assert.NilError(t, os.Chmod(unreadable, 0))
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--bogus"}, "unknown flag --bogus"},
		{"bad port value", []string{"-p", "abc"}, "--port"},
		{"port out of range", []string{"-p", "70000"}, "port: 70000 is not a port number"},
		{"missing config", []string{"-c", filepath.Join(dir, "nope.conf")}, "nope.conf: no such file or directory"},
		{"syntax error", []string{"-c", write("syntax.conf", "port: 4222\nlisten {{{\n")}, "syntax.conf"},
		{"wrong type", []string{"-c", write("type.conf", "\nport: \"abc\"\n")}, "type.conf:2: port: expected an integer, got string \"abc\""},
		{"bad duration", []string{"-c", write("dur.conf", "lame_duck_duration: \"soon\"\n")}, "dur.conf:1: lame_duck_duration: expected a duration"},
		{"grace >= duration", []string{"-c", write("grace.conf", "lame_duck_duration: 10s\nlame_duck_grace_period: 10s\n")}, "lame_duck_grace_period (10s) must be less than lame_duck_duration (10s)"},
		{"bad log format", []string{"--log_format", "xml"}, "--log_format"},
		{"bad signal", []string{"--signal", "explode"}, "unknown signal command \"explode\""},
		{"tls without a certificate", []string{"--tls"}, "tls: a certificate and its key are required"},
		{"tls with a missing certificate", []string{"--tls", "--tlscert", "/nonexistent.pem", "--tlskey", "/nonexistent.key"}, "tls: load certificate /nonexistent.pem"},
	}
	if os.Geteuid() != 0 {
		cases = append(cases, struct {
			name string
			args []string
			want string
		}{"unreadable config", []string{"-c", unreadable}, "permission denied"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runNatsd(t, tc.args...)
			assert.Equal(t, code, 1, out)
			assert.Assert(t, strings.Contains(out, tc.want), "output %q lacks %q", out, tc.want)
			assert.Equal(t, strings.Count(strings.TrimSpace(out), "\n"), 0, "want one line, got:\n%s", out)
			assert.Assert(t, strings.HasPrefix(out, "natsd: "), out)
			assert.Assert(t, !strings.Contains(out, "panic") && !strings.Contains(out, "goroutine "), out)
		})
	}
}

// TestConfigFailsClosed: every key natsd does not implement stops the
// start and -t alike with one line naming it at file:line, exit 1: an
// unknown key as nats-server names it, a key of a feature natsd lacks with
// the feature named.
func TestConfigFailsClosed(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		assert.NilError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	write("inc.conf", "\n\nsyslog: true\n")
	cases := []struct {
		name, body, want string
	}{
		{"unknown key", "port: 4222\n\nfancy_option: 3\n", "c.conf:3: unknown field \"fancy_option\""},
		{"jetstream", "port: 4222\n\njetstream: enabled\n", "c.conf:3: jetstream is not supported by natsd"},
		{"jetstream block", "jetstream {\n  store_dir: /tmp\n}\n", "c.conf:1: jetstream is not supported by natsd"},
		{"store_dir", "store_dir: /tmp\n", "c.conf:1: store_dir (JetStream) is not supported by natsd"},
		{"leafnodes", "leafnodes {\n  port: 7422\n}\n", "c.conf:1: leafnodes is not supported by natsd"},
		{"leaf", "leaf {\n  port: 7422\n}\n", "c.conf:1: leaf (leafnodes) is not supported by natsd"},
		{"gateway", "gateway {\n  name: x\n}\n", "c.conf:1: gateway is not supported by natsd"},
		{"websocket", "websocket {\n  port: 8080\n}\n", "c.conf:1: websocket is not supported by natsd"},
		{"mqtt", "mqtt {\n  port: 1883\n}\n", "c.conf:1: mqtt is not supported by natsd"},
		{"operator", "operator: /x.jwt\n", "c.conf:1: operator is not supported by natsd"},
		{"resolver", "resolver: MEMORY\n", "c.conf:1: resolver is not supported by natsd"},
		{"trusted_keys", "trusted_keys: [\"x\"]\n", "c.conf:1: trusted_keys is not supported by natsd"},
		{"cluster permissions", "cluster {\n  name: c1\n  port: 6222\n  permissions: {}\n}\n", "c.conf:4: cluster permissions is not supported by natsd"},
		{"unknown cluster key", "cluster {\n  name: c1\n  colour: red\n}\n", "c.conf:3: unknown field \"colour\""},
		{"case does not hide a key", "JetStream: true\n", "c.conf:1: JetStream is not supported by natsd"},
		{"unknown tls key", "tls {\n  cert_file: a\n  key_file: b\n  colour: red\n}\n", "c.conf:4: unknown field \"colour\""},
		{"unsupported tls key", "tls {\n  cert_file: a\n  key_file: b\n  pinned_certs: []\n}\n", "c.conf:4: tls pinned_certs is not supported by natsd"},
		{"unused variable", "UNUSED = 5\nport: 4222\n", "c.conf:1: unknown field \"UNUSED\""},
		{"in an included file", "port: 4222\ninclude \"inc.conf\"\n", "inc.conf:3: syslog is not supported by natsd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conf := write("c.conf", tc.body)
			for _, args := range [][]string{{"-t", "-c", conf}, {"-c", conf, "-p", "-1", "-a", "127.0.0.1"}} {
				code, out := runNatsd(t, args...)
				assert.Equal(t, code, 1, out)
				assert.Equal(t, strings.TrimSpace(out), "natsd: "+filepath.Join(dir, tc.want), "args %v", args)
			}
		})
	}
}

// TestConfigVariables: a variable the file refers to is not an option
// (nats-server accepts it silently), wherever it is defined.
func TestConfigVariables(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "v.conf")
	assert.NilError(t, os.WriteFile(conf, []byte("PORT = 4402\nHOST: 127.0.0.1\nport: $PORT\nhost: $HOST\ntls {\n  T = 3\n  cert_file: a\n  key_file: b\n  timeout: $T\n}\n"), 0o644))
	var st settings
	warnings, err := loadConfig(conf, &st)
	assert.NilError(t, err)
	assert.Equal(t, len(warnings), 0, "%v", warnings)
	assert.Equal(t, st.Server.Port, 4402)
	assert.Equal(t, st.Server.Host, "127.0.0.1")
	assert.Equal(t, st.Server.TLSTimeout, 3*time.Second)
}

// TestUnsupportedFlags: nats-server's flags natsd does not implement, and
// unknown single-dash long flags, are refused as written instead of being
// read as bundles of short flags.
func TestUnsupportedFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-sd", "/tmp"}, "natsd: flag -sd (JetStream) is not supported by natsd (see natsd --help)"},
		{[]string{"--client_advertise=x:4222"}, "natsd: flag --client_advertise (client_advertise) is not supported by natsd (see natsd --help)"},
		{[]string{"-js"}, "natsd: flag -js (JetStream) is not supported by natsd (see natsd --help)"},
		{[]string{"-fancy", "x"}, "natsd: unknown flag -fancy (see natsd --help)"},
	} {
		code, out := runNatsd(t, tc.args...)
		assert.Equal(t, code, 1, out)
		assert.Equal(t, strings.TrimSpace(out), tc.want)
	}
}

func TestCheckConfig(t *testing.T) {
	good := filepath.Join(t.TempDir(), "good.conf")
	assert.NilError(t, os.WriteFile(good, []byte("port: 1\n"), 0o644)) // -t never binds
	code, out := runNatsd(t, "-c", good, "-t")
	assert.Equal(t, code, 0, out)
	bad := filepath.Join(t.TempDir(), "bad.conf")
	assert.NilError(t, os.WriteFile(bad, []byte("port {\n  a: 1\n}\n"), 0o644))
	code, out = runNatsd(t, "-t", "-c", bad)
	assert.Equal(t, code, 1, out)
	assert.Assert(t, strings.Contains(out, "bad.conf:1: port: expected an integer, got a block"), out)
}

func TestVersionAndHelp(t *testing.T) {
	code, out := runNatsd(t, "-v")
	assert.Equal(t, code, 0)
	assert.Assert(t, strings.HasPrefix(out, "natsd version "+lifecycle.Version+", go"), out)
	assert.Assert(t, strings.Contains(out, "commit "), out)

	var stdout, stderr bytes.Buffer
	assert.Equal(t, run([]string{"--help"}, &stdout, &stderr), 0)
	help := stdout.String()
	for _, group := range []string{"Server", "Files", "Logging", "Monitoring", "Lifecycle"} {
		assert.Assert(t, strings.Contains(help, "\n"+group+"\n"), "help lacks group %s:\n%s", group, help)
	}
	for _, line := range strings.Split(help, "\n") {
		assert.Assert(t, len(line) <= 80, "help line wider than an 80-column terminal: %q", line)
	}
}

// TestConfigVariablesLikeNatsServer: natsd and nats-server agree on
// variables, whatever their case: each config is accepted by both, or
// refused by both.
func TestConfigVariablesLikeNatsServer(t *testing.T) {
	ns := tools.ForTest(t, tools.NatsServer)
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{"PORT = 4402\nport: $PORT\n", true},
		{"NAME = n1\nserver_name: $NAME\n", true},
		{"DEBUG = true\ntrace: $DEBUG\n", true},
		{"UNUSED = 5\n", false},
		{"CLUSTER = \"x\"\nserver_name: $CLUSTER\n", false},
	} {
		conf := filepath.Join(t.TempDir(), "v.conf")
		assert.NilError(t, os.WriteFile(conf, []byte(tc.body), 0o644))
		nsErr := exec.Command(ns, "-t", "-c", conf).Run()
		assert.Equal(t, nsErr == nil, tc.ok, "nats-server on %q: %v", tc.body, nsErr)
		code, out := runNatsd(t, "-t", "-c", conf)
		assert.Equal(t, code == 0, tc.ok, "natsd on %q: %s", tc.body, out)
	}
}
