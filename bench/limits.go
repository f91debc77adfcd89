package main

import "syscall"

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
