package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/conf"
	"github.com/natsd/natsd/lifecycle"
)

// settings is everything natsd reads from flags and the config file: the
// server's options plus what the command itself owns (logging).
type settings struct {
	Server lifecycle.Options
	Log    logSettings

	// authAt is where the authorization {} block was written (zero when
	// there is none), to locate the errors of the whole auth setup;
	// warnings are config problems that do not stop a start.
	authAt   entry
	warnings []string
}

// logSettings are the logging options (all reloadable).
type logSettings struct {
	File            string
	Debug           bool
	Trace           bool
	Logtime         bool
	LogtimeUTC      bool
	Format          string
	MaxTracedMsgLen int
}

// token is what conf.ParseFileWithChecks returns for every value: the
// value with the file and line it came from, and whether it is a variable
// that the file refers to later ("PORT = 4222" then "port: $PORT").
type token interface {
	Value() any
	Line() int
	SourceFile() string
	IsUsedVariable() bool
}

// configError is a config-file problem located at file:line.
type configError struct {
	file string
	line int
	msg  string
}

func (e *configError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	}
	return fmt.Sprintf("%s: %s", e.file, e.msg)
}

// entry is one key of a config block with its value unwrapped and where it
// was written.
type entry struct {
	key  string // as written
	name string // lower case, as nats-server compares keys
	v    any
	file string
	line int
	used bool // a variable the file refers to: not an error when no option knows it
}

// entries unwraps a config block's keys and sorts them in file order, so
// the first problem reported is the first one in the file. file and line
// locate the block, for values that carry no position.
func entries(m map[string]any, file string, line int) []entry {
	out := make([]entry, 0, len(m))
	for k, raw := range m {
		e := entry{key: k, name: strings.ToLower(k), file: file, line: line}
		e.v, e.file, e.line, e.used = unwrap(raw, file, line)
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].file != out[j].file {
			return out[i].file < out[j].file
		}
		if out[i].line != out[j].line {
			return out[i].line < out[j].line
		}
		return out[i].key < out[j].key
	})
	return out
}

// unwrap returns a config value without its token, with its position (the
// given one when it carries none).
func unwrap(raw any, file string, line int) (v any, f string, l int, used bool) {
	t, ok := raw.(token)
	if !ok {
		return raw, file, line, false
	}
	f, l = t.SourceFile(), t.Line()
	if f == "" {
		f = file
	}
	return t.Value(), f, l, t.IsUsedVariable()
}

// errAt locates err at e, unless it is already located.
func (e entry) errAt(err error) error {
	var ce *configError
	if errors.As(err, &ce) {
		return err
	}
	return &configError{file: e.file, line: e.line, msg: fmt.Sprintf("%s: %v", e.key, err)}
}

// unknownField is nats-server's error for a key it does not know.
func (e entry) unknownField() error {
	return &configError{file: e.file, line: e.line, msg: fmt.Sprintf("unknown field %q", e.key)}
}

// unsupported is the error for a key nats-server knows but natsd does not
// implement.
func (e entry) unsupported(feature string) error {
	what := e.key
	if feature != "" && !strings.EqualFold(feature, e.key) {
		what = fmt.Sprintf("%s (%s)", e.key, feature)
	}
	return &configError{file: e.file, line: e.line, msg: fmt.Sprintf("%s is not supported by natsd", what)}
}

// loadConfig reads a nats-server format config file into s. Every key must
// be one natsd implements: a key nats-server knows but natsd does not
// implement is an error naming the feature, any other key is an error
// naming the unknown field (as nats-server reports it), both located at
// file:line. Keys compare in lower case, as in nats-server, so a variable
// named like an option ("PORT = 4222", then "port: $PORT") also sets it;
// any other variable the file refers to ("NAME = n1", then
// "server_name: $NAME") is not an option and is accepted silently, while
// one the file never refers to is an unknown field, as in nats-server. The
// warnings are problems that do not stop a start.
func loadConfig(path string, s *settings) (warnings []string, err error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, unwrapPath(err))
	}
	m, err := conf.ParseFileWithChecks(path)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	for _, e := range entries(m, path, 0) {
		// Known keys first, as nats-server: a variable named like an option
		// ("PORT = 4222") sets it too; only a variable the file refers to
		// and no option knows is not an error.
		if set, ok := configBlocks[e.name]; ok {
			if err := set(s, e); err != nil {
				return nil, err
			}
			continue
		}
		if set, ok := configOptions[e.name]; ok {
			if err := set(s, e.v); err != nil {
				return nil, e.errAt(err)
			}
			continue
		}
		if feature, ok := unsupportedOptions[e.name]; ok {
			return nil, e.unsupported(feature)
		}
		if e.used {
			continue
		}
		return nil, e.unknownField()
	}
	if err := s.Server.Auth.Validate(); err != nil {
		return nil, s.authError(path, err)
	}
	if err := s.Server.Accounts.Validate(); err != nil {
		return nil, s.authError(path, err)
	}
	s.Server.ConfigFile = path
	return append(warnings, s.warnings...), nil
}

// authError locates a problem of the auth configuration as a whole at its
// first block.
func (s *settings) authError(path string, err error) error {
	at := s.authAt
	if at.file == "" {
		at.file = path
	}
	return at.errHere(err.Error())
}

// configBlocks are the options read with their position, for the errors of
// the block as a whole.
var configBlocks = map[string]func(*settings, entry) error{
	"authorization": setAuthorization,
	"accounts":      setAccounts,
}

// configOptions maps each config-file option (nats-server's names) to what
// it sets.
var configOptions = map[string]func(*settings, any) error{
	"listen":             setHostPort(func(s *settings) (*string, *int) { return &s.Server.Host, &s.Server.Port }),
	"host":               setString(func(s *settings) *string { return &s.Server.Host }),
	"net":                setString(func(s *settings) *string { return &s.Server.Host }),
	"port":               setInt(func(s *settings) *int { return &s.Server.Port }),
	"server_name":        setString(func(s *settings) *string { return &s.Server.ServerName }),
	"http_port":          setInt(func(s *settings) *int { return &s.Server.HTTPPort }),
	"monitor_port":       setInt(func(s *settings) *int { return &s.Server.HTTPPort }),
	"http_host":          setString(func(s *settings) *string { return &s.Server.HTTPHost }),
	"https_port":         setInt(func(s *settings) *int { return &s.Server.HTTPSPort }),
	"http":               setHostPort(func(s *settings) (*string, *int) { return &s.Server.HTTPHost, &s.Server.HTTPPort }),
	"https":              setHostPort(func(s *settings) (*string, *int) { return &s.Server.HTTPHost, &s.Server.HTTPSPort }),
	"tls":                setTLSBlock,
	"prof_port":          setInt(func(s *settings) *int { return &s.Server.ProfPort }),
	"pid_file":           setString(func(s *settings) *string { return &s.Server.PidFile }),
	"pidfile":            setString(func(s *settings) *string { return &s.Server.PidFile }),
	"ports_file_dir":     setString(func(s *settings) *string { return &s.Server.PortsFileDir }),
	"max_connections":    setInt(func(s *settings) *int { return &s.Server.MaxConn }),
	"max_conn":           setInt(func(s *settings) *int { return &s.Server.MaxConn }),
	"max_payload":        setInt(func(s *settings) *int { return &s.Server.MaxPayload }),
	"max_control_line":   setInt(func(s *settings) *int { return &s.Server.MaxControlLine }),
	"max_pending":        setInt64(func(s *settings) *int64 { return &s.Server.MaxPending }),
	"max_subscriptions":  setInt(func(s *settings) *int { return &s.Server.MaxSubs }),
	"max_subs":           setInt(func(s *settings) *int { return &s.Server.MaxSubs }),
	"ping_max":           setInt(func(s *settings) *int { return &s.Server.PingMax }),
	"max_closed_clients": setInt(func(s *settings) *int { return &s.Server.MaxClosedClients }),
	"ping_interval":      setDuration(func(s *settings) *time.Duration { return &s.Server.PingInterval }),
	"write_deadline":     setDuration(func(s *settings) *time.Duration { return &s.Server.WriteDeadline }),
	"lame_duck_duration": setDuration(func(s *settings) *time.Duration { return &s.Server.LameDuckDuration }),
	"lame_duck_grace_period": setDuration(func(s *settings) *time.Duration {
		return &s.Server.LameDuckGracePeriod
	}),
	"shutdown_timeout":   setDuration(func(s *settings) *time.Duration { return &s.Server.ShutdownTimeout }),
	"upgrade_timeout":    setDuration(func(s *settings) *time.Duration { return &s.Server.UpgradeTimeout }),
	"system_account":     setString(func(s *settings) *string { return &s.Server.SystemAccount }),
	"system":             setString(func(s *settings) *string { return &s.Server.SystemAccount }),
	"no_system_account":  setBool(func(s *settings) *bool { return &s.Server.NoSystemAccount }),
	"no_system":          setBool(func(s *settings) *bool { return &s.Server.NoSystemAccount }),
	"no_sys_acc":         setBool(func(s *settings) *bool { return &s.Server.NoSystemAccount }),
	"log_file":           setString(func(s *settings) *string { return &s.Log.File }),
	"logfile":            setString(func(s *settings) *string { return &s.Log.File }),
	"debug":              setBool(func(s *settings) *bool { return &s.Log.Debug }),
	"trace":              setBool(func(s *settings) *bool { return &s.Log.Trace }),
	"logtime":            setBool(func(s *settings) *bool { return &s.Log.Logtime }),
	"logtime_utc":        setBool(func(s *settings) *bool { return &s.Log.LogtimeUTC }),
	"log_format":         setString(func(s *settings) *string { return &s.Log.Format }),
	"max_traced_msg_len": setInt(func(s *settings) *int { return &s.Log.MaxTracedMsgLen }),
	"no_auth_user":       setNoAuthUser,
	"allow_non_tls":      setBool(func(s *settings) *bool { return &s.Server.AllowNonTLS }),
}

// unsupportedOptions are the config keys nats-server knows that natsd does
// not implement, with the feature each belongs to ("" when the key names
// it). Each is refused at start, on -t and on reload, naming the key: a
// server that silently ignored, say, its JetStream or cluster settings
// would run as something other than what its operator wrote.
var unsupportedOptions = map[string]string{
	"jetstream": "JetStream", "store_dir": "JetStream", "storedir": "JetStream",
	"default_js_domain": "JetStream",
	"leafnodes":         "", "leaf": "leafnodes",
	"gateway":   "",
	"websocket": "", "ws": "websocket",
	"mqtt":     "",
	"operator": "", "operators": "operator", "roots": "operator", "root": "operator",
	"root_operators": "operator", "root_operator": "operator",
	"resolver": "", "account_resolver": "resolver", "accounts_resolver": "resolver",
	"resolver_tls": "resolver", "resolver_preload": "resolver", "resolver_pinned_accounts": "resolver",
	"trusted": "trusted_keys", "trusted_keys": "",
	"default_sentinel": "operator",
	"client_advertise": "",
	"trace_verbose":    "",
	"trace_headers":    "",
	"mappings":         "subject mappings", "maps": "subject mappings",
	"disable_sublist_cache": "", "no_sublist_cache": "disable_sublist_cache",
	"http_base_path":     "",
	"logfile_size_limit": "log rotation by size", "log_size_limit": "log rotation by size",
	"logfile_max_num": "log rotation by size", "log_max_num": "log rotation by size",
	"syslog": "", "remote_syslog": "syslog",
	"prof_block_rate":   "",
	"proxy_protocol":    "",
	"proxies":           "",
	"max_subscriptions": "", "max_subs": "max_subscriptions",
	"max_sub_tokens": "", "max_subscription_tokens": "max_sub_tokens",
	"ocsp": "", "ocsp_cache": "ocsp",
	"write_timeout":           "",
	"no_header_support":       "",
	"connect_error_reports":   "",
	"reconnect_error_reports": "",
	"server_tags":             "",
	"server_metadata":         "",
	"feature_flags":           "",
	"no_fast_producer_stall":  "",
}

// setHostPort reads "host:port" into a host and a port option.
func setHostPort(fields func(*settings) (*string, *int)) func(*settings, any) error {
	return func(s *settings, v any) error {
		str, err := asString(v)
		if err != nil {
			return err
		}
		host, port, err := net.SplitHostPort(str)
		if err != nil {
			return fmt.Errorf("expected host:port, got %q", str)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return fmt.Errorf("expected host:port, got %q", str)
		}
		h, pp := fields(s)
		*h, *pp = host, p
		return nil
	}
}

func setString(field func(*settings) *string) func(*settings, any) error {
	return func(s *settings, v any) error {
		str, err := asString(v)
		if err == nil {
			*field(s) = str
		}
		return err
	}
}

func setInt(field func(*settings) *int) func(*settings, any) error {
	return func(s *settings, v any) error {
		i, err := asInt(v)
		if err == nil {
			*field(s) = int(i)
		}
		return err
	}
}

func setInt64(field func(*settings) *int64) func(*settings, any) error {
	return func(s *settings, v any) error {
		i, err := asInt(v)
		if err == nil {
			*field(s) = i
		}
		return err
	}
}

func setBool(field func(*settings) *bool) func(*settings, any) error {
	return func(s *settings, v any) error {
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("expected a boolean, got %s", describe(v))
		}
		*field(s) = b
		return nil
	}
}

// setDuration accepts a duration string ("10s", "2m") or, as nats-server
// does, a number of seconds.
func setDuration(field func(*settings) *time.Duration) func(*settings, any) error {
	return func(s *settings, v any) error {
		switch x := v.(type) {
		case string:
			d, err := time.ParseDuration(x)
			if err != nil {
				return fmt.Errorf("expected a duration like \"10s\", got %q", x)
			}
			*field(s) = d
		case int64:
			*field(s) = time.Duration(x) * time.Second
		default:
			return fmt.Errorf("expected a duration like \"10s\", got %s", describe(v))
		}
		return nil
	}
}

func asString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("expected a string, got %s", describe(v))
	}
	return s, nil
}

func asInt(v any) (int64, error) {
	i, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("expected an integer, got %s", describe(v))
	}
	return i, nil
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("string %q", x)
	case int64:
		return fmt.Sprintf("integer %d", x)
	case float64:
		return fmt.Sprintf("number %v", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case map[string]any:
		return "a block"
	case []any:
		return "a list"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
