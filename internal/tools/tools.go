// Package tools installs the pinned reference programs that natsd's tests
// and benchmark run beside natsd: nats-server v2.15.2 and the nats CLI
// v0.5.0. They are built with `go install` from the Go module proxy into a
// git-ignored folder of the repository (.tools/bin) the first time they are
// needed, so `make test` and `make bench` work on a fresh machine.
//
// Installing is safe to run from several processes at once (test packages
// run in parallel): the installs are serialised by a lock file in the
// folder.
package tools

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Tool is one pinned program.
type Tool struct {
	// Bin is the executable's name.
	Bin string
	// Module is the Go package path given to `go install`.
	Module string
	// Version is the pinned module version ("v2.15.2").
	Version string
	// VersionArgs make the program print a line containing Version without
	// its "v".
	VersionArgs []string
}

// The pinned tools.
var (
	NatsServer = Tool{Bin: "nats-server", Module: "github.com/nats-io/nats-server/v2", Version: "v2.15.2", VersionArgs: []string{"--version"}}
	NatsCLI    = Tool{Bin: "nats", Module: "github.com/nats-io/natscli/nats", Version: "v0.5.0", VersionArgs: []string{"--version"}}
)

// All lists every pinned tool.
var All = []Tool{NatsServer, NatsCLI}

// DirEnv names the environment variable that overrides the tools folder.
const DirEnv = "NATSD_TOOLS_DIR"

// Dir returns the tools folder: $NATSD_TOOLS_DIR, or .tools/bin at the root
// of the repository that holds the working directory.
func Dir() (string, error) {
	if d := os.Getenv(DirEnv); d != "" {
		return filepath.Abs(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, ".tools", "bin"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: cannot place the tools folder", wd)
		}
	}
}

// Install makes sure t is in dir at its pinned version, building it with
// `go install` when it is missing or of another version, and returns its
// path. Build output goes to log (nil: discarded).
func Install(dir string, t Tool, log func(format string, args ...any)) (string, error) {
	path := filepath.Join(dir, t.Bin)
	if current(path, t) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lock(filepath.Join(dir, ".install.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if current(path, t) { // another process installed it meanwhile
		return path, nil
	}
	if log != nil {
		log("installing %s@%s into %s", t.Module, t.Version, dir)
	}
	cmd := exec.Command("go", "install", t.Module+"@"+t.Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go install %s@%s: %w: %s", t.Module, t.Version, err, strings.TrimSpace(lastLines(string(out), 5)))
	}
	if !current(path, t) {
		return "", fmt.Errorf("go install %s@%s did not leave %s at that version", t.Module, t.Version, path)
	}
	return path, nil
}

// InstallAll installs every pinned tool into dir.
func InstallAll(dir string, log func(format string, args ...any)) error {
	var errs []error
	for _, t := range All {
		if _, err := Install(dir, t, log); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// TB is the part of testing.TB that [ForTest] uses.
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Logf(format string, args ...any)
}

// ForTest returns the path of t for a test, installing it first if needed.
// When it cannot be installed (no module proxy, no Go toolchain), the test
// is skipped with one line saying why.
func ForTest(tb TB, t Tool) string {
	tb.Helper()
	dir, err := Dir()
	if err == nil {
		var path string
		if path, err = Install(dir, t, tb.Logf); err == nil {
			return path
		}
	}
	tb.Skipf("skipped: %s %s cannot be installed here: %v", t.Bin, t.Version, err)
	return ""
}

// current reports whether path runs and reports t's version.
func current(path string, t Tool) bool {
	out, err := exec.Command(path, t.VersionArgs...).CombinedOutput()
	return err == nil && strings.Contains(string(out), strings.TrimPrefix(t.Version, "v"))
}

// lock takes an exclusive flock on path, waiting for it.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
