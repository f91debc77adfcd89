package main

import (
	"fmt"
	"strings"
)

// CLI is natsd's command line. Flag names are nats-server's; the one
// addition is --log_format (documented in the README).
type CLI struct {
	// Server
	Addr        string `short:"a" name:"addr" aliases:"net" group:"Server" placeholder:"HOST" help:"Network host to listen on (default 0.0.0.0)."`
	Port        int    `short:"p" name:"port" group:"Server" placeholder:"PORT" help:"Port to listen on (default 4222; -1 for a random free port)."`
	Name        string `short:"n" name:"name" aliases:"server_name" group:"Server" placeholder:"NAME" help:"Server name (default: the server id)."`
	Config      string `short:"c" name:"config" group:"Server" placeholder:"FILE" help:"Configuration file (nats-server format)."`
	CheckConfig bool   `short:"t" name:"t" group:"Server" help:"Check the configuration file and exit: 0 if valid, 1 with the error."`

	// Files
	Pid          string `short:"P" name:"pid" group:"Files" placeholder:"FILE" help:"File to store the process PID (removed on exit)."`
	PortsFileDir string `name:"ports_file_dir" group:"Files" placeholder:"DIR" help:"Write DIR/<executable>_<pid>.ports with the listening URLs (removed on exit)."`

	// Authorization
	User string `name:"user" group:"Authorization" placeholder:"USER" help:"User required for connections (overrides the config file)."`
	Pass string `name:"pass" group:"Authorization" placeholder:"PASSWORD" help:"Password required for connections."`
	Auth string `name:"auth" group:"Authorization" placeholder:"TOKEN" help:"Authorization token required for connections."`

	// Logging
	Log             string `short:"l" name:"log" group:"Logging" placeholder:"FILE" help:"File to write the log to (default: stderr); SIGUSR1 reopens it."`
	Debug           bool   `short:"D" name:"debug" group:"Logging" help:"Enable debug logging."`
	Trace           bool   `short:"V" name:"trace" group:"Logging" help:"Enable trace logging (protocol lines); -DV: debug and trace."`
	Logtime         bool   `short:"T" name:"logtime" group:"Logging" default:"true" help:"Timestamp log lines (default true; -T=false drops the time)."`
	LogtimeUTC      bool   `name:"logtime_utc" group:"Logging" help:"Timestamps in UTC instead of the local time zone."`
	LogFormat       string `name:"log_format" group:"Logging" enum:",text,json" default:"" placeholder:"text|json" help:"Log format: text (as nats-server) or json."`
	MaxTracedMsgLen int    `name:"max_traced_msg_len" group:"Logging" placeholder:"N" help:"Maximum printable length of traced messages (0: unlimited)."`

	// Monitoring
	HTTPPort  int `short:"m" name:"http_port" group:"Monitoring" placeholder:"PORT" help:"HTTP port for /varz, /connz, /healthz, /lifecyclez (-1: random)."`
	HTTPSPort int `name:"https_port" group:"Monitoring" placeholder:"PORT" help:"(-ms) HTTPS port for monitoring (needs --tlscert and --tlskey)."`
	Profile   int `name:"profile" group:"Monitoring" placeholder:"PORT" help:"Port for Go's pprof handlers (-1: random)."`

	// Lifecycle
	Signal string `name:"signal" group:"Lifecycle" placeholder:"CMD[=PID|PIDFILE]" help:"(-sl) Send a signal to a running natsd: ldm, stop, quit, term, reopen, reload, upgrade (with a PIDFILE it waits for the upgrade's outcome). No PID: the single running natsd; a trailing * selects all."`

	// TLS
	TLS       bool   `name:"tls" group:"TLS" help:"Enable TLS (needs --tlscert and --tlskey)."`
	TLSCert   string `name:"tlscert" group:"TLS" placeholder:"FILE" help:"Server certificate file."`
	TLSKey    string `name:"tlskey" group:"TLS" placeholder:"FILE" help:"Private key of the server certificate."`
	TLSCACert string `name:"tlscacert" group:"TLS" placeholder:"FILE" help:"CA certificate to verify clients with."`
	TLSVerify bool   `name:"tlsverify" group:"TLS" help:"Enable TLS and require verified client certificates."`

	// Cluster (config_cluster.go)
	ClusterFlags `embed:""`

	Version bool `short:"v" name:"version" help:"Print the version and exit."`
}

// flagSpec describes how one of nats-server's flag spellings maps to this
// CLI: the canonical long flags it stands for, and whether it takes a value.
type flagSpec struct {
	canon []string
	value bool
}

// natsFlags lists every flag spelling nats-server accepts (Go's flag
// package takes -name and --name alike) that kong would not parse as is:
// single-dash long names, bundles that are flags of their own, and long
// spellings of short flags.
var natsFlags = map[string]flagSpec{
	"a": {[]string{"--addr"}, true}, "addr": {[]string{"--addr"}, true}, "net": {[]string{"--addr"}, true},
	"p": {[]string{"--port"}, true}, "port": {[]string{"--port"}, true},
	"n": {[]string{"--name"}, true}, "name": {[]string{"--name"}, true}, "server_name": {[]string{"--name"}, true},
	"c": {[]string{"--config"}, true}, "config": {[]string{"--config"}, true},
	"t": {[]string{"--t"}, false},
	"P": {[]string{"--pid"}, true}, "pid": {[]string{"--pid"}, true},
	"ports_file_dir": {[]string{"--ports_file_dir"}, true},
	"user":           {[]string{"--user"}, true}, "pass": {[]string{"--pass"}, true}, "auth": {[]string{"--auth"}, true},
	"l": {[]string{"--log"}, true}, "log": {[]string{"--log"}, true},
	"D": {[]string{"--debug"}, false}, "debug": {[]string{"--debug"}, false},
	"V": {[]string{"--trace"}, false}, "trace": {[]string{"--trace"}, false},
	"VV": {[]string{"--trace"}, false}, "DV": {[]string{"--debug", "--trace"}, false},
	"DVV": {[]string{"--debug", "--trace"}, false},
	"T":   {[]string{"--logtime"}, false}, "logtime": {[]string{"--logtime"}, false},
	"logtime_utc":        {[]string{"--logtime_utc"}, false},
	"log_format":         {[]string{"--log_format"}, true},
	"max_traced_msg_len": {[]string{"--max_traced_msg_len"}, true},
	"m":                  {[]string{"--http_port"}, true}, "http_port": {[]string{"--http_port"}, true},
	"ms": {[]string{"--https_port"}, true}, "https_port": {[]string{"--https_port"}, true},
	"profile": {[]string{"--profile"}, true},
	"sl":      {[]string{"--signal"}, true}, "signal": {[]string{"--signal"}, true},
	"tls": {[]string{"--tls"}, false}, "tlscert": {[]string{"--tlscert"}, true},
	"tlskey": {[]string{"--tlskey"}, true}, "tlscacert": {[]string{"--tlscacert"}, true},
	"tlsverify": {[]string{"--tlsverify"}, false},
	"v":         {[]string{"--version"}, false}, "version": {[]string{"--version"}, false},
	"h": {[]string{"--help"}, false}, "help": {[]string{"--help"}, false},
}

// unsupportedFlags are nats-server's flags that natsd does not implement,
// with the feature each belongs to. They are refused naming the flag as
// written, never ignored.
var unsupportedFlags = map[string]string{
	"client_advertise": "client_advertise", "log_size_limit": "log rotation by size",
	"s": "syslog", "syslog": "syslog", "r": "syslog", "remote_syslog": "syslog",
	"js": "JetStream", "jetstream": "JetStream", "sd": "JetStream", "store_dir": "JetStream",
	"help_tls": "help_tls",
}

// normalizeArgs rewrites nats-server's flag spellings (-port 4222, -sl ldm,
// -DV, -T=false, --p 4222) into the canonical long flags kong parses.
// Values are never rewritten, and everything after "--" is left alone.
// A flag of nats-server's that natsd does not implement is an error naming
// it as written, and so is an unknown single-dash long flag (which kong
// would otherwise read as a bundle of short flags: -auth as -a uth). Other
// unknown flags are left for kong to reject.
func normalizeArgs(args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			out = append(out, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		}
		spec, ok := natsFlags[name]
		if !ok {
			written := strings.SplitN(a, "=", 2)[0]
			if feature, known := unsupportedFlags[name]; known {
				return nil, fmt.Errorf("flag %s (%s) is not supported by natsd", written, feature)
			}
			if !strings.HasPrefix(a, "--") && len(name) > 1 {
				return nil, fmt.Errorf("unknown flag %s", written)
			}
			out = append(out, a)
			continue
		}
		if spec.value && !hasValue && i+1 < len(args) {
			// Join the value to its flag, so a value like "-1" is never
			// taken for a flag.
			i++
			value, hasValue = args[i], true
		}
		for j, c := range spec.canon {
			if hasValue && j == len(spec.canon)-1 {
				out = append(out, c+"="+value)
			} else {
				out = append(out, c)
			}
		}
	}
	return out, nil
}
