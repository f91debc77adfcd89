package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/conf"
	"github.com/natsd/natsd/lifecycle"
)

// settings is everything natsd reads from flags and the config file: the
// server's options plus what the command itself owns (logging).
type settings struct {
	Server lifecycle.Options
	Log    logSettings
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
// value with the file and line it came from.
type token interface {
	Value() any
	Line() int
	SourceFile() string
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

// loadConfig reads a nats-server format config file into s. Unknown options
// are returned as warnings (file:line), not errors, as nats-server does
// outside pedantic mode.
func loadConfig(path string, s *settings) (warnings []string, err error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, unwrapPath(err))
	}
	m, err := conf.ParseFileWithChecks(path)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %v", path, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		file, line := path, 0
		if t, ok := v.(token); ok {
			file, line = t.SourceFile(), t.Line()
			if file == "" {
				file = path
			}
			v = t.Value()
		}
		set, known := configOptions[k]
		if !known {
			warnings = append(warnings, fmt.Sprintf("%s:%d: unknown config option %q ignored", file, line, k))
			continue
		}
		if err := set(s, v); err != nil {
			return nil, &configError{file: file, line: line, msg: fmt.Sprintf("%s: %v", k, err)}
		}
	}
	s.Server.ConfigFile = path
	return warnings, nil
}

// configOptions maps each config-file option (nats-server's names) to what
// it sets.
var configOptions = map[string]func(*settings, any) error{
	"listen": func(s *settings, v any) error {
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
		s.Server.Host, s.Server.Port = host, p
		return nil
	},
	"host":               setString(func(s *settings) *string { return &s.Server.Host }),
	"net":                setString(func(s *settings) *string { return &s.Server.Host }),
	"port":               setInt(func(s *settings) *int { return &s.Server.Port }),
	"server_name":        setString(func(s *settings) *string { return &s.Server.ServerName }),
	"http_port":          setInt(func(s *settings) *int { return &s.Server.HTTPPort }),
	"monitor_port":       setInt(func(s *settings) *int { return &s.Server.HTTPPort }),
	"http_host":          setString(func(s *settings) *string { return &s.Server.HTTPHost }),
	"https_port":         setInt(func(s *settings) *int { return &s.Server.HTTPSPort }),
	"tls":                setTLSBlock,
	"prof_port":          setInt(func(s *settings) *int { return &s.Server.ProfPort }),
	"pid_file":           setString(func(s *settings) *string { return &s.Server.PidFile }),
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
	"system_account":     setString(func(s *settings) *string { return &s.Server.SystemAccount }),
	"no_system_account":  setBool(func(s *settings) *bool { return &s.Server.NoSystemAccount }),
	"log_file":           setString(func(s *settings) *string { return &s.Log.File }),
	"debug":              setBool(func(s *settings) *bool { return &s.Log.Debug }),
	"trace":              setBool(func(s *settings) *bool { return &s.Log.Trace }),
	"logtime":            setBool(func(s *settings) *bool { return &s.Log.Logtime }),
	"logtime_utc":        setBool(func(s *settings) *bool { return &s.Log.LogtimeUTC }),
	"log_format":         setString(func(s *settings) *string { return &s.Log.Format }),
	"max_traced_msg_len": setInt(func(s *settings) *int { return &s.Log.MaxTracedMsgLen }),
}

// setTLSBlock reads nats-server's tls { cert_file, key_file, ca_file,
// verify, timeout } block; its presence turns TLS on.
func setTLSBlock(s *settings, v any) error {
	block, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("expected a block, got %s", describe(v))
	}
	s.Server.TLS = true
	for k, raw := range block {
		if t, ok := raw.(token); ok {
			raw = t.Value()
		}
		var err error
		switch k {
		case "cert_file":
			s.Server.TLSCert, err = asString(raw)
		case "key_file":
			s.Server.TLSKey, err = asString(raw)
		case "ca_file":
			s.Server.TLSCACert, err = asString(raw)
		case "verify":
			b, ok := raw.(bool)
			if !ok {
				err = fmt.Errorf("expected a boolean, got %s", describe(raw))
			}
			s.Server.TLSVerify = b
		case "timeout":
			err = setDuration(func(s *settings) *time.Duration { return &s.Server.TLSTimeout })(s, raw)
			if f, ok := raw.(float64); ok && err != nil {
				s.Server.TLSTimeout, err = time.Duration(f*float64(time.Second)), nil
			}
		default:
			err = fmt.Errorf("unknown option %q", k)
		}
		if err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
	}
	return nil
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
