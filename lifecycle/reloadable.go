package lifecycle

import (
	"fmt"
	"strconv"
)

// How a reload treats an option.
type reloadRule int

const (
	// live options take the reloaded value; a change is logged.
	live reloadRule = iota
	// fixedOption options cannot change while running: a change refuses
	// the whole reload, naming the option.
	fixedOption
	// kept options describe how the server was started, not what the
	// config file says; a reload keeps the running value.
	kept
	// ownStep options are checked and applied by a reload step of their
	// own (see reloadSteps), which also names what changed.
	ownStep
)

// option is one field of [Options]: its config-file name, how a reload
// treats it, and its value as text (for comparing and for the log).
type option struct {
	name   string
	reload reloadRule
	get    func(*Options) string
	// keep copies the running value into the reloaded options (kept
	// options only).
	keep func(next, cur *Options)
	// same, if set, compares the option instead of its text (for an
	// option whose text hides a secret).
	same func(a, b *Options) bool
}

// differs reports whether the option has another value in b than in a.
func (o option) differs(a, b *Options) bool {
	if o.same != nil {
		return !o.same(a, b)
	}
	return o.get(a) != o.get(b)
}

// optionTable lists every field of [Options], by config-file name. A test
// checks that no field is missing, so a new option has to say here how a
// reload treats it.
var optionTable = []option{
	{name: "host", reload: fixedOption, get: func(o *Options) string { return o.Host }},
	{name: "port", reload: fixedOption, get: func(o *Options) string { return strconv.Itoa(o.Port) }},
	{name: "server_name", reload: fixedOption, get: func(o *Options) string { return o.ServerName }},
	{name: "http_host", reload: fixedOption, get: func(o *Options) string { return o.HTTPHost }},
	{name: "http_port", reload: fixedOption, get: func(o *Options) string { return strconv.Itoa(o.HTTPPort) }},
	{name: "https_port", reload: fixedOption, get: func(o *Options) string { return strconv.Itoa(o.HTTPSPort) }},
	{name: "prof_port", reload: fixedOption, get: func(o *Options) string { return strconv.Itoa(o.ProfPort) }},
	{name: "tls", reload: fixedOption, get: func(o *Options) string { return strconv.FormatBool(o.TLS) }},
	{name: "tls cert_file", reload: fixedOption, get: func(o *Options) string { return o.TLSCert }},
	{name: "tls key_file", reload: fixedOption, get: func(o *Options) string { return o.TLSKey }},
	{name: "tls ca_file", reload: fixedOption, get: func(o *Options) string { return o.TLSCACert }},
	{name: "tls verify", reload: fixedOption, get: func(o *Options) string { return strconv.FormatBool(o.TLSVerify) }},
	{name: "tls timeout", reload: fixedOption, get: func(o *Options) string { return o.TLSTimeout.String() }},
	{name: "tls handshake_first", reload: fixedOption, get: func(o *Options) string { return strconv.FormatBool(o.TLSHandshakeFirst) }},
	{name: "allow_non_tls", reload: fixedOption, get: func(o *Options) string { return strconv.FormatBool(o.AllowNonTLS) }},
	{
		name: "cluster", reload: fixedOption,
		get:  func(o *Options) string { return o.Cluster.fixed().String() },
		same: func(a, b *Options) bool { return a.Cluster.fixed() == b.Cluster.fixed() },
	},
	{name: "cluster routes", reload: live, get: func(o *Options) string { return o.Cluster.routesText() }},
	{name: "cluster connect_retries", reload: live, get: func(o *Options) string { return strconv.Itoa(o.Cluster.ConnectRetries) }},
	{name: "cluster connect_backoff", reload: live, get: func(o *Options) string { return strconv.FormatBool(o.Cluster.ConnectBackoff) }},
	{name: "cluster ping_interval", reload: live, get: func(o *Options) string { return o.Cluster.PingInterval.String() }},
	{name: "cluster ping_max", reload: live, get: func(o *Options) string { return strconv.Itoa(o.Cluster.PingMax) }},
	{name: "cluster tls", reload: live, get: func(o *Options) string { return o.Cluster.tlsText() }},
	{name: "authorization", reload: ownStep, get: func(o *Options) string { return fmt.Sprintf("%+v", o.Auth) }},
	{name: "accounts", reload: ownStep, get: func(o *Options) string { return fmt.Sprintf("%+v", o.Accounts) }},
	{name: "pid_file", reload: live, get: func(o *Options) string { return o.PidFile }},
	{name: "ports_file_dir", reload: live, get: func(o *Options) string { return o.PortsFileDir }},
	{name: "max_connections", reload: live, get: func(o *Options) string { return strconv.Itoa(o.MaxConn) }},
	{name: "max_payload", reload: live, get: func(o *Options) string { return strconv.Itoa(o.MaxPayload) }},
	{name: "max_subscriptions", reload: live, get: func(o *Options) string { return strconv.Itoa(o.MaxSubs) }},
	{name: "max_control_line", reload: live, get: func(o *Options) string { return strconv.Itoa(o.MaxControlLine) }},
	{name: "max_pending", reload: live, get: func(o *Options) string { return strconv.FormatInt(o.MaxPending, 10) }},
	{name: "write_deadline", reload: live, get: func(o *Options) string { return o.WriteDeadline.String() }},
	{name: "ping_interval", reload: live, get: func(o *Options) string { return o.PingInterval.String() }},
	{name: "ping_max", reload: live, get: func(o *Options) string { return strconv.Itoa(o.PingMax) }},
	{name: "max_traced_msg_len", reload: live, get: func(o *Options) string { return strconv.Itoa(o.MaxTracedMsgLen) }},
	{name: "lame_duck_duration", reload: live, get: func(o *Options) string { return o.LameDuckDuration.String() }},
	{name: "lame_duck_grace_period", reload: live, get: func(o *Options) string { return o.LameDuckGracePeriod.String() }},
	{name: "shutdown_timeout", reload: live, get: func(o *Options) string { return o.ShutdownTimeout.String() }},
	{name: "upgrade_timeout", reload: live, get: func(o *Options) string { return o.UpgradeTimeout.String() }},
	{name: "max_closed_clients", reload: fixedOption, get: func(o *Options) string { return strconv.Itoa(o.MaxClosedClients) }},
	{name: "system_account", reload: fixedOption, get: func(o *Options) string { return o.SystemAccount }},
	{name: "no_system_account", reload: fixedOption, get: func(o *Options) string { return strconv.FormatBool(o.NoSystemAccount) }},
	{
		name: "config_file", reload: kept,
		get:  func(o *Options) string { return o.ConfigFile },
		keep: func(next, cur *Options) { next.ConfigFile = cur.ConfigFile },
	},
}

// String names the rule, for tests and messages.
func (r reloadRule) String() string {
	switch r {
	case live:
		return "live"
	case fixedOption:
		return "fixed"
	case kept:
		return "kept"
	case ownStep:
		return "own step"
	}
	return fmt.Sprintf("reloadRule(%d)", int(r))
}
