package lifecycle

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/looplab/fsm"
	"github.com/natsd/natsd/internal/machine"
)

// Reload replaces the running options with next (typically re-read from
// the config file). Every option is validated and compared first; a change
// to an option that cannot change live, or an invalid value, refuses the
// whole reload with an error naming it and the server keeps running
// unchanged. Reload is refused in any state but Listening.
func (s *Server) Reload(next *Options, cause string) error {
	return s.request(EventReload, cause, next)
}

// reloadPlan is what before_reload prepared for after_reload.
type reloadPlan struct {
	opts      *Options
	pidFile   string
	portsFile string
}

// fixedOptions are the options that cannot change while running, by their
// config-file names.
var fixedOptions = []struct {
	name string
	get  func(*Options) any
}{
	{"host", func(o *Options) any { return o.Host }},
	{"port", func(o *Options) any { return o.Port }},
	{"server_name", func(o *Options) any { return o.ServerName }},
	{"http_host", func(o *Options) any { return o.HTTPHost }},
	{"http_port", func(o *Options) any { return o.HTTPPort }},
	{"prof_port", func(o *Options) any { return o.ProfPort }},
	{"https_port", func(o *Options) any { return o.HTTPSPort }},
	{"tls", func(o *Options) any { return []any{o.TLS, o.TLSCert, o.TLSKey, o.TLSCACert, o.TLSVerify, o.TLSTimeout} }},
	{"max_closed_clients", func(o *Options) any { return o.MaxClosedClients }},
	{"system_account", func(o *Options) any { return o.SystemAccount }},
	{"no_system_account", func(o *Options) any { return o.NoSystemAccount }},
}

// beforeReload validates the new options, refuses changes that cannot be
// applied live and writes the PID and ports files at their new places, if
// they move. Any failure cancels the reload.
func (s *Server) beforeReload(_ context.Context, e *fsm.Event) {
	s.notifyReloading()
	cur := s.opts.Load()
	n, ok := e.Args[1].(*Options)
	if !ok || n == nil {
		e.Cancel(fmt.Errorf("reload: no options"))
		return
	}
	next := *n
	next.SetDefaults()
	if next.ServerName == "" {
		next.ServerName = s.pubKey
	}
	// What the server was built with, not what a config file says.
	next.Log, next.Rand, next.ProgName, next.ConfigFile, next.Notifier = cur.Log, cur.Rand, cur.ProgName, cur.ConfigFile, cur.Notifier
	if err := next.Validate(); err != nil {
		e.Cancel(fmt.Errorf("reload rejected: %w", err))
		return
	}
	var fixed []string
	for _, f := range fixedOptions {
		if !reflect.DeepEqual(f.get(cur), f.get(&next)) {
			fixed = append(fixed, fmt.Sprintf("%s (%v -> %v)", f.name, f.get(cur), f.get(&next)))
		}
	}
	if len(fixed) > 0 {
		e.Cancel(fmt.Errorf("reload rejected: cannot change %s while running", strings.Join(fixed, ", ")))
		return
	}
	plan := &reloadPlan{opts: &next}
	s.mu.Lock()
	plan.pidFile, plan.portsFile = s.pidFile, s.portsFile
	ports := s.ports
	s.mu.Unlock()
	if next.PidFile != plan.pidFile {
		if next.PidFile != "" {
			if err := writePidFile(next.PidFile); err != nil {
				e.Cancel(fmt.Errorf("reload rejected: %w", err))
				return
			}
		}
		plan.pidFile = next.PidFile
	}
	if p := portsFilePath(next.PortsFileDir, next.ProgName); p != plan.portsFile {
		if p != "" {
			if err := writePortsFile(p, ports); err != nil {
				if next.PidFile != cur.PidFile {
					removeFile(next.PidFile)
				}
				e.Cancel(fmt.Errorf("reload rejected: %w", err))
				return
			}
		}
		plan.portsFile = p
	}
	e.Args[1] = plan
}

// afterReload applies the new options atomically: new connections get the
// new limits and INFO, the lame-duck and shutdown timings apply to the next
// drain, and the PID and ports files are removed from their old places. A
// reload is a self-transition, which looplab/fsm runs without leave and
// enter callbacks, so this callback records and logs it itself.
func (s *Server) afterReload(_ context.Context, e *fsm.Event) {
	plan := e.Args[1].(*reloadPlan)
	cur := s.opts.Load()
	s.mu.Lock()
	oldPid, oldPorts := s.pidFile, s.portsFile
	s.pidFile, s.portsFile = plan.pidFile, plan.portsFile
	port := 0
	if s.ln != nil {
		port = s.ln.Port()
	}
	s.mu.Unlock()
	s.opts.Store(plan.opts)
	s.cfg.Store(s.connConfig(plan.opts, port))
	s.applyLimits(s.cfg.Load())
	if plan.opts.OnApply != nil {
		plan.opts.OnApply()
	}
	if oldPid != plan.pidFile {
		removeFile(oldPid)
	}
	if oldPorts != plan.portsFile {
		removeFile(oldPorts)
	}
	r := e.Args[0].(request)
	s.history.Record(machine.Transition{From: e.Src, To: e.Dst, Event: e.Event, Cause: r.cause, At: time.Now()})
	s.log.Infof("Server state %s -> %s (event %s, cause: %s): %s", e.Src, e.Dst, e.Event, r.cause, describeChanges(cur, plan.opts))
}

// describeChanges lists the options that differ, for the reload log line.
func describeChanges(a, b *Options) string {
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	t := va.Type()
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("json") == "-" || !f.IsExported() {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, fmt.Sprintf("%s=%v", f.Name, vb.Field(i).Interface()))
		}
	}
	if len(out) == 0 {
		return "no changes"
	}
	return strings.Join(out, ", ")
}
