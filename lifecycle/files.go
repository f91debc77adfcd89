package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Ports is the ports file's JSON, with nats-server's field names.
type Ports struct {
	Nats       []string `json:"nats,omitempty"`
	Monitoring []string `json:"monitoring,omitempty"`
	Cluster    []string `json:"cluster,omitempty"`
	Profile    []string `json:"profile,omitempty"`
	WebSocket  []string `json:"websocket,omitempty"`
}

// File modes, as nats-server's: the PID file is the owner's alone (0600),
// the ports file readable by all (0644).
const (
	pidFileMode   fs.FileMode = 0o600
	portsFileMode fs.FileMode = 0o644
)

// writeFileAtomic writes data to a temporary file in path's directory and
// renames it over path with the given mode, so a reader sees the old file,
// or the whole new one.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Chmod(name, mode); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return err
	}
	return nil
}

// writePidFile writes our PID to path. A PID file naming another live natsd
// is refused (that natsd owns it) unless it names replaced, the natsd this
// process replaces in an upgrade; a stale one, left by a process that is
// gone, is overwritten.
func writePidFile(path string, replaced int) error {
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() && pid != replaced && pidAlive(pid) {
			return fmt.Errorf("write pid file %s: natsd with PID %d is running and uses it", path, pid)
		}
	}
	if err := writeFileAtomic(path, []byte(strconv.Itoa(os.Getpid())), pidFileMode); err != nil {
		return fmt.Errorf("write pid file %s: %w", path, unwrapPathError(err))
	}
	return nil
}

// pidAlive reports whether pid is a running process whose command looks
// like natsd (a recycled PID of another program does not count).
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return true // no /proc: trust kill(0)
	}
	arg0, _, _ := strings.Cut(string(comm), "\x00")
	return strings.Contains(filepath.Base(arg0), "natsd")
}

// portsFilePath returns DIR/<prog>_<pid>.ports for this process, or ""
// without a dir.
func portsFilePath(dir, prog string) string { return portsFilePathFor(dir, prog, os.Getpid()) }

// portsFilePathFor returns DIR/<prog>_<pid>.ports, or "" without a dir.
func portsFilePathFor(dir, prog string, pid int) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, fmt.Sprintf("%s_%d.ports", prog, pid))
}

// removeOwnPidFile removes the PID file at path if it holds this
// process's PID: after an upgrade it holds the new process's, which owns
// it now.
func removeOwnPidFile(path string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		return nil
	}
	return removeFile(path)
}

func writePortsFile(path string, p Ports) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, data, portsFileMode); err != nil {
		return fmt.Errorf("write ports file %s: %w", path, unwrapPathError(err))
	}
	return nil
}

// removeFile removes path, treating "already gone" as success.
func removeFile(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// urlsFor lists scheme://host:port for a bound address; an unspecified host
// (0.0.0.0, ::) lists every interface address, as nats-server does.
func urlsFor(scheme string, addr *net.TCPAddr) []string {
	port := strconv.Itoa(addr.Port)
	var hosts []string
	if addr.IP.IsUnspecified() {
		ifaces, _ := net.Interfaces()
		for _, i := range ifaces {
			addrs, _ := i.Addrs()
			for _, a := range addrs {
				switch v := a.(type) {
				case *net.IPNet:
					hosts = append(hosts, v.IP.String())
				case *net.IPAddr:
					hosts = append(hosts, v.IP.String())
				}
			}
		}
	} else {
		hosts = append(hosts, addr.IP.String())
	}
	urls := make([]string, 0, len(hosts))
	for _, h := range hosts {
		urls = append(urls, scheme+"://"+net.JoinHostPort(h, port))
	}
	return urls
}
