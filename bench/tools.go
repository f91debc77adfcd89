package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Pinned reference tools, installed with `go install` into the tools folder
// (git-ignored .bench/bin) when missing or of another version.
var pinnedTools = []struct {
	bin     string
	module  string
	version string
	// versionArgs print a line that contains the version without its "v".
	versionArgs []string
}{
	{"nats-server", "github.com/nats-io/nats-server/v2", "v2.15.2", []string{"--version"}},
	{"nats", "github.com/nats-io/natscli/nats", "v0.5.0", []string{"--version"}},
}

// installTools makes sure every pinned tool is in dir at its version.
func installTools(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, t := range pinnedTools {
		path := filepath.Join(dir, t.bin)
		if out, err := exec.Command(path, t.versionArgs...).CombinedOutput(); err == nil &&
			strings.Contains(string(out), strings.TrimPrefix(t.version, "v")) {
			continue
		}
		logf("installing %s@%s into %s", t.module, t.version, dir)
		cmd := exec.Command("go", "install", t.module+"@"+t.version)
		cmd.Env = append(os.Environ(), "GOBIN="+dir)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go install %s@%s: %w", t.module, t.version, err)
		}
	}
	return nil
}

// raiseNoFile raises this process's open-file limit to its hard limit. The
// holder processes call it too: each holds thousands of sockets. Servers
// written in Go raise their own soft limit at start.
func raiseNoFile() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	return rl.Cur
}

// hardNoFile returns the hard open-file limit, which no process here can
// exceed without CAP_SYS_RESOURCE.
func hardNoFile() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return rl.Max
}
