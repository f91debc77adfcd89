package lifecycle

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/looplab/fsm"
)

// Reload replaces the running options with next (typically re-read from
// the config file). Every option is validated and compared first; a change
// to an option that cannot change live, or an invalid value, refuses the
// whole reload with an error naming it and the server keeps running
// unchanged. Reload is refused in any state but Listening.
//
// also are the parts of the reload the server does not own (the command's
// logging); each is applied only if the reload is accepted, together with
// the server's own options, and what it changes is logged with them.
func (s *Server) Reload(next *Options, cause string, also ...ReloadPart) error {
	if next == nil {
		return fmt.Errorf("%s refused: no options", EventReload)
	}
	return s.request(request{event: EventReload, cause: cause, reload: &reloadPlan{given: next, also: also}})
}

// ReloadPart is a part of a reload that the server does not own, such as
// the command's logging settings: it is applied atomically with the
// server's own options, or not at all.
type ReloadPart struct {
	// Changes names what the part changes, one "name = value" each, as
	// nats-server logs them ("debug = true"); the server logs each as
	// "Reloaded: debug = true".
	Changes []string
	// Apply, if set, makes the change; it runs on the lifecycle loop once
	// the reload is accepted and must not fail.
	Apply func()
}

// reloadPlan is one reload: what it was given, and what before_reload
// prepared for after_reload. It travels with the request, so both
// callbacks read the same typed value.
type reloadPlan struct {
	given *Options     // as the caller gave it
	also  []ReloadPart // the caller's own parts

	cur, next *Options // the running options, and the validated new ones
	changes   []string // "name = value", in the order they are logged
	// pidFile and portsFile are where the files are once the reload is
	// applied; movedPid and movedPorts say whether prepare wrote them there.
	pidFile, portsFile   string
	movedPid, movedPorts bool
	// auth is the new authentication and accounts, prepared by the auth
	// step (see auth.go).
	auth *authReload
	// routeTLS is the routes' new TLS configuration (nil without cluster
	// TLS), prepared by the cluster step (see cluster.go).
	routeTLS *tls.Config
}

// A reloadStep is one part of the server's reload. prepare runs in
// before_reload, in order, and may refuse the reload with an error (the
// undo of every step prepared before it then runs, in reverse order);
// apply runs in after_reload, in order, once every step is prepared. A
// feature whose settings can change live (credentials, limits of the
// connected clients) adds a step here.
type reloadStep struct {
	name    string
	prepare func(*Server, *reloadPlan) error // nil: nothing to check
	undo    func(*Server, *reloadPlan)       // nil: prepare left nothing behind
	apply   func(*Server, *reloadPlan)       // nil: nothing to apply
}

// reloadSteps are the steps of every reload, in the order they run.
var reloadSteps = []reloadStep{
	{name: "options", prepare: (*Server).prepareOptions, apply: (*Server).applyOptions},
	{name: "files", prepare: (*Server).prepareFiles, undo: (*Server).undoFiles, apply: (*Server).applyFiles},
	{name: "auth", prepare: (*Server).prepareAuthStep, apply: (*Server).applyAuthStep},
	{name: "cluster", prepare: (*Server).prepareCluster, apply: (*Server).reloadCluster},
	{name: "caller", apply: (*Server).applyCallerParts},
}

// beforeReload tells the service manager a reload started and prepares
// every step; the first that refuses cancels the reload, with what the
// earlier steps did undone.
func (s *Server) beforeReload(_ context.Context, e *fsm.Event) {
	s.notifyReloading()
	plan := requestOf(e).reload
	for i, st := range reloadSteps {
		if st.prepare == nil {
			continue
		}
		if err := st.prepare(s, plan); err != nil {
			for j := i - 1; j >= 0; j-- {
				if u := reloadSteps[j].undo; u != nil {
					u(s, plan)
				}
			}
			e.Cancel(fmt.Errorf("reload rejected: %w", err))
			return
		}
	}
}

// afterReload applies every step, then records and logs the reload. A
// reload is a self-transition, which looplab/fsm runs without leave and
// enter callbacks, so this callback does the bookkeeping itself.
func (s *Server) afterReload(_ context.Context, e *fsm.Event) {
	r := requestOf(e)
	for _, st := range reloadSteps {
		if st.apply != nil {
			st.apply(s, r.reload)
		}
	}
	changes := r.reload.changes
	for _, p := range r.reload.also {
		changes = append(changes, p.Changes...)
	}
	for _, c := range changes {
		s.log.Infof("Reloaded: %s", c)
	}
	what := "no changes"
	if len(changes) > 0 {
		what = strings.Join(changes, ", ")
	}
	s.record(e, r.cause, time.Now(), what)
}

// prepareOptions validates the new options and refuses a change to one
// that cannot change live.
func (s *Server) prepareOptions(p *reloadPlan) error {
	p.cur = s.opts.Load()
	next := *p.given
	next.SetDefaults()
	if next.ServerName == "" {
		next.ServerName = s.pubKey
	}
	for _, o := range optionTable {
		if o.reload == kept {
			o.keep(&next, p.cur)
		}
	}
	if err := next.Validate(); err != nil {
		return err
	}
	var fixed []string
	for _, o := range optionTable {
		if a, b := o.get(p.cur), o.get(&next); o.differs(p.cur, &next) {
			switch o.reload {
			case fixedOption:
				fixed = append(fixed, fmt.Sprintf("%s (%s -> %s)", o.name, a, b))
			case live:
				p.changes = append(p.changes, o.name+" = "+b)
			}
		}
	}
	if len(fixed) > 0 {
		return fmt.Errorf("cannot change %s while running", strings.Join(fixed, ", "))
	}
	p.next = &next
	return nil
}

// applyOptions makes the new options the running ones: new connections
// get the new limits and INFO, the lame-duck and shutdown timings apply to
// the next drain.
func (s *Server) applyOptions(p *reloadPlan) {
	s.mu.Lock()
	port := 0
	if s.ln != nil {
		port = s.ln.Port()
	}
	s.mu.Unlock()
	s.opts.Store(p.next)
	s.storeConnConfig(p.next, port)
	s.applyLimits(s.cfg.Load())
}

// prepareFiles writes the PID and ports files at their new places, if they
// move.
func (s *Server) prepareFiles(p *reloadPlan) error {
	s.mu.Lock()
	p.pidFile, p.portsFile = s.pidFile, s.portsFile
	ports := s.ports
	s.mu.Unlock()
	if p.next.PidFile != p.pidFile {
		if p.next.PidFile != "" {
			if err := writePidFile(p.next.PidFile, 0); err != nil {
				return err
			}
		}
		p.pidFile, p.movedPid = p.next.PidFile, true
	}
	if path := portsFilePath(p.next.PortsFileDir, s.deps.ProgName); path != p.portsFile {
		if path != "" {
			if err := writePortsFile(path, ports); err != nil {
				s.undoFiles(p)
				return err
			}
		}
		p.portsFile, p.movedPorts = path, true
	}
	return nil
}

// undoFiles removes the files prepareFiles wrote at new places.
func (s *Server) undoFiles(p *reloadPlan) {
	if p.movedPid {
		removeFile(p.pidFile)
	}
	if p.movedPorts {
		removeFile(p.portsFile)
	}
}

// applyFiles removes the PID and ports files from their old places.
func (s *Server) applyFiles(p *reloadPlan) {
	s.mu.Lock()
	oldPid, oldPorts := s.pidFile, s.portsFile
	s.pidFile, s.portsFile = p.pidFile, p.portsFile
	s.mu.Unlock()
	if p.movedPid {
		removeFile(oldPid)
	}
	if p.movedPorts {
		removeFile(oldPorts)
	}
}

// applyCallerParts applies the caller's own parts of the reload.
func (s *Server) applyCallerParts(p *reloadPlan) {
	for _, part := range p.also {
		if part.Apply != nil {
			part.Apply()
		}
	}
}
