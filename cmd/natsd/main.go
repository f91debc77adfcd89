// Command natsd is a NATS-protocol server daemon whose lifecycle is a
// declared state machine. Its command line, config file, signals and exit
// codes follow nats-server's.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"github.com/alecthomas/kong"
	"github.com/natsd/natsd/internal/handoff"
	"github.com/natsd/natsd/internal/sdnotify"
	"github.com/natsd/natsd/lifecycle"
)

// commit is set at build time (-ldflags "-X main.commit=...").
var commit = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
)

// kongExit carries kong's request to exit (after --help) out of Parse.
type kongExit int

// run is natsd's main, returning the exit code. Every error becomes one
// line on stderr; nothing panics out.
//
// A natsd started by an upgrade (see internal/handoff) takes its
// listening sockets over from the natsd it replaces and tells it how its
// start went: ready once it serves, else the last line it printed, the
// error.
func run(args []string, stdout, stderr io.Writer) (code int) {
	progName := filepath.Base(os.Args[0])
	inherited, err := handoff.FromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "natsd: %v\n", err)
		return exitError
	}
	last := &lastErrLine{w: stderr}
	stderr = last
	defer func() {
		if code != exitOK {
			inherited.Fail(errors.New(last.String()))
		}
	}()
	var cli CLI
	exe, exeErr := os.Executable()
	parser, err := kong.New(&cli,
		kong.Name("natsd"),
		kong.Description("A NATS-protocol server whose lifecycle is a declared state machine.\nFlags and config options are nats-server's; see docs/lifecycle.md."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { panic(kongExit(c)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, WrapUpperBound: 80}),
	)
	if err != nil {
		fmt.Fprintf(stderr, "natsd: %v\n", err)
		return exitError
	}
	defer func() {
		if r := recover(); r != nil {
			if c, ok := r.(kongExit); ok {
				code = int(c)
				return
			}
			panic(r)
		}
	}()
	norm, err := normalizeArgs(args)
	if err == nil {
		_, err = parser.Parse(norm)
	}
	if err != nil {
		fmt.Fprintf(stderr, "natsd: %v (see natsd --help)\n", err)
		return exitError
	}

	if cli.Version {
		fmt.Fprintf(stdout, "natsd version %s, %s, commit %s\n", lifecycle.Version, runtime.Version(), buildCommit())
		return exitOK
	}
	if cli.Signal != "" {
		msg, err := sendSignal(cli.Signal, progName, systemProcesses())
		if err != nil {
			fmt.Fprintf(stderr, "natsd: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "natsd: %s\n", msg)
		return exitOK
	}

	st, warnings, err := buildSettings(&cli)
	if err != nil {
		if cli.Config != "" {
			// A problem of the file, located in it: no hint to the flags.
			fmt.Fprintf(stderr, "natsd: %v\n", err)
		} else {
			fmt.Fprintf(stderr, "natsd: %v (see natsd --help)\n", err)
		}
		return exitError
	}
	if cli.CheckConfig {
		for _, w := range warnings {
			fmt.Fprintf(stderr, "natsd: warning: %s\n", w)
		}
		if cli.Config != "" {
			fmt.Fprintf(stdout, "natsd: configuration file %s is valid\n", cli.Config)
		} else {
			fmt.Fprintln(stdout, "natsd: configuration is valid")
		}
		return exitOK
	}

	sink := newLogger(stderr)
	if err := sink.configure(st.Log, stderr); err != nil {
		fmt.Fprintf(stderr, "natsd: %v\n", err)
		return exitError
	}
	defer sink.close()
	log := sink.log
	for _, w := range warnings {
		log.Warnf("%s", w)
	}
	notifier, err := sdnotify.FromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "natsd: %v\n", err)
		return exitError
	}
	defer notifier.Close()
	deps := lifecycle.Deps{Log: log, ProgName: progName}
	if notifier != nil {
		deps.Notifier = notifier
	}
	if inherited != nil {
		deps.Inherited = inherited
	}
	deps.Upgrade = func(socks []lifecycle.Socket) (lifecycle.Successor, error) {
		if exeErr != nil {
			return nil, fmt.Errorf("find natsd's executable: %w", exeErr)
		}
		return startSuccessor(exe, notifier, socks)
	}
	opts := st.Server
	srv, err := lifecycle.New(&opts, deps)
	if err != nil {
		fmt.Fprintf(stderr, "natsd: %v\n", err)
		return exitError
	}
	log.Infof("Starting natsd")
	log.Infof("  Version:  %s", lifecycle.Version)
	log.Infof("  Git:      [%s]", buildCommit())
	log.Infof("  Name:     %s", srv.Options().ServerName)
	log.Infof("  ID:       %s", srv.ID())
	if opts.ConfigFile != "" {
		log.Infof("Using configuration file: %s", opts.ConfigFile)
	}

	d := &daemon{cli: &cli, srv: srv, sink: sink, stderr: stderr, exit: os.Exit}
	stop := d.trapSignals()
	defer stop()
	if err := srv.Start(); err != nil {
		log.Errorf("Start failed: %v", err)
		fmt.Fprintf(stderr, "natsd: %v\n", err)
		return exitError
	}
	if err := inherited.Ready(); err != nil {
		log.Warnf("%v", err)
	}
	srv.WaitForShutdown()
	d.upgrades.Wait()
	return exitOK
}

// buildSettings reads the config file (if any), then lays the flags given on
// the command line over it: flags win.
func buildSettings(cli *CLI) (*settings, []string, error) {
	st := &settings{Log: logSettings{Logtime: true}}
	var warnings []string
	if cli.Config != "" {
		w, err := loadConfig(cli.Config, st)
		if err != nil {
			return nil, nil, err
		}
		warnings = w
	}
	if err := applyFlags(cli, st); err != nil {
		return nil, nil, err
	}
	// The connections truncate what they trace.
	st.Server.MaxTracedMsgLen = st.Log.MaxTracedMsgLen
	o := st.Server
	o.SetDefaults()
	err := o.Validate()
	if err == nil {
		_, err = lifecycle.TLSConfig(&o)
	}
	if err == nil {
		_, err = lifecycle.ClusterTLSConfig(&o)
	}
	if err != nil {
		if cli.Config != "" {
			return nil, nil, fmt.Errorf("config file %s: %w", cli.Config, err)
		}
		return nil, nil, err
	}
	return st, warnings, nil
}

// applyFlags lays the flags that were given over the settings.
func applyFlags(cli *CLI, st *settings) error {
	s := &st.Server
	if cli.Addr != "" {
		s.Host = cli.Addr
	}
	if cli.Port != 0 {
		s.Port = cli.Port
	}
	if cli.Name != "" {
		s.ServerName = cli.Name
	}
	if cli.Pid != "" {
		s.PidFile = cli.Pid
	}
	if cli.PortsFileDir != "" {
		s.PortsFileDir = cli.PortsFileDir
	}
	if cli.HTTPPort != 0 {
		s.HTTPPort = cli.HTTPPort
	}
	if cli.Profile != 0 {
		s.ProfPort = cli.Profile
	}
	if cli.HTTPSPort != 0 {
		s.HTTPSPort = cli.HTTPSPort
	}
	if cli.TLS {
		s.TLS = true
	}
	if cli.TLSVerify {
		s.TLSVerify = true
	}
	if cli.TLSCert != "" {
		s.TLSCert = cli.TLSCert
	}
	if cli.TLSKey != "" {
		s.TLSKey = cli.TLSKey
	}
	if cli.TLSCACert != "" {
		s.TLSCACert = cli.TLSCACert
	}
	if cli.User != "" {
		s.Auth.User = cli.User
	}
	if cli.Pass != "" {
		s.Auth.Password = cli.Pass
	}
	if cli.Auth != "" {
		s.Auth.Token = cli.Auth
	}
	l := &st.Log
	if cli.Log != "" {
		l.File = cli.Log
	}
	if cli.Debug {
		l.Debug = true
	}
	if cli.Trace {
		l.Trace = true
	}
	if !cli.Logtime {
		l.Logtime = false
	}
	if cli.LogtimeUTC {
		l.LogtimeUTC = true
	}
	if cli.LogFormat != "" {
		l.Format = cli.LogFormat
	}
	if cli.MaxTracedMsgLen != 0 {
		l.MaxTracedMsgLen = cli.MaxTracedMsgLen
	}
	return applyClusterFlags(&cli.ClusterFlags, st)
}

// buildCommit returns the commit natsd was built from, or "unknown".
func buildCommit() string {
	if commit != "" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				return s.Value[:7]
			}
		}
	}
	return "unknown"
}
