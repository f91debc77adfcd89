package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/natsd/natsd/lifecycle"
	"github.com/sirupsen/logrus"
)

// textFormatter writes lines the way nats-server does:
//
//	[PID] 2006/01/02 15:04:05.000000 [INF] message
//
// Without logtime the time is left out. With trace but without debug, debug
// lines are dropped (nats-server's -V shows traces, not debug lines).
type textFormatter struct {
	prefix  string
	logtime bool
	utc     bool
	noDebug bool
}

var levelTags = map[logrus.Level]string{
	logrus.PanicLevel: "FTL",
	logrus.FatalLevel: "FTL",
	logrus.ErrorLevel: "ERR",
	logrus.WarnLevel:  "WRN",
	logrus.InfoLevel:  "INF",
	logrus.DebugLevel: "DBG",
	logrus.TraceLevel: "TRC",
}

// Format implements logrus.Formatter.
func (f *textFormatter) Format(e *logrus.Entry) ([]byte, error) {
	if f.noDebug && e.Level == logrus.DebugLevel {
		return nil, nil
	}
	var b bytes.Buffer
	b.WriteString(f.prefix)
	if f.logtime {
		t := e.Time
		if f.utc {
			t = t.UTC()
		}
		b.WriteString(t.Format("2006/01/02 15:04:05.000000 "))
	}
	b.WriteByte('[')
	b.WriteString(levelTags[e.Level])
	b.WriteString("] ")
	b.WriteString(e.Message)
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// jsonFormatter wraps logrus's JSON formatter with the pid and the same
// debug filtering as textFormatter.
type jsonFormatter struct {
	inner   logrus.JSONFormatter
	noDebug bool
}

// Format implements logrus.Formatter.
func (f *jsonFormatter) Format(e *logrus.Entry) ([]byte, error) {
	if f.noDebug && e.Level == logrus.DebugLevel {
		return nil, nil
	}
	return f.inner.Format(e.WithField("pid", os.Getpid()))
}

// reopenFile is a log file that can be reopened at the same path (after
// logrotate moved it away). logrus serialises writes, and Reopen swaps the
// file under the same lock as Write, so no line is lost or written twice.
type reopenFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

func openLogFile(path string) (*reopenFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open log file %s: %w", path, unwrapPath(err))
	}
	return &reopenFile{path: path, f: f}, nil
}

// Write implements io.Writer.
func (r *reopenFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Write(p)
}

// Reopen opens the path anew and closes the old file.
func (r *reopenFile) Reopen() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("reopen log file %s: %w", r.path, unwrapPath(err))
	}
	r.mu.Lock()
	old := r.f
	r.f = f
	r.mu.Unlock()
	return old.Close()
}

// Close closes the file.
func (r *reopenFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}

// logSink owns the logger's output: stderr, or a reopenable file.
type logSink struct {
	log     *logrus.Logger
	mu      sync.Mutex // guards file and applied
	file    *reopenFile
	applied logSettings // the settings in effect
}

// newLogger returns a logger writing to stderr until configure is called.
func newLogger(stderr io.Writer) *logSink {
	l := logrus.New()
	l.SetOutput(stderr)
	l.SetFormatter(&textFormatter{prefix: "[" + strconv.Itoa(os.Getpid()) + "] ", logtime: true})
	return &logSink{log: l}
}

// configure applies logging settings: output, format, level.
func (s *logSink) configure(ls logSettings, stderr io.Writer) error {
	part, err := s.prepare(ls, stderr)
	if err != nil {
		return err
	}
	part.Apply()
	return nil
}

// prepare checks logging settings and opens what they need (the log file),
// returning the reload part that switches the logger over and names what
// changes. A reload calls prepare before the server accepts it, and the
// server applies the part only once it has.
func (s *logSink) prepare(ls logSettings, stderr io.Writer) (lifecycle.ReloadPart, error) {
	var formatter logrus.Formatter
	noDebug := ls.Trace && !ls.Debug
	switch ls.Format {
	case "", "text":
		formatter = &textFormatter{
			prefix:  "[" + strconv.Itoa(os.Getpid()) + "] ",
			logtime: ls.Logtime,
			utc:     ls.LogtimeUTC,
			noDebug: noDebug,
		}
	case "json":
		f := &jsonFormatter{noDebug: noDebug}
		f.inner.TimestampFormat = time.RFC3339Nano
		formatter = f
	default:
		return lifecycle.ReloadPart{}, fmt.Errorf("log_format: %q is not text or json", ls.Format)
	}
	level := logrus.InfoLevel
	switch {
	case ls.Trace:
		level = logrus.TraceLevel
	case ls.Debug:
		level = logrus.DebugLevel
	}
	var out io.Writer = stderr
	var file *reopenFile
	s.mu.Lock()
	cur, prev := s.file, s.applied
	s.mu.Unlock()
	if ls.File != "" {
		if cur != nil && cur.path == ls.File {
			file = cur
		} else {
			f, err := openLogFile(ls.File)
			if err != nil {
				return lifecycle.ReloadPart{}, err
			}
			file = f
		}
		out = file
	}
	apply := func() {
		s.log.SetFormatter(formatter)
		s.log.SetLevel(level)
		s.log.SetOutput(out)
		s.mu.Lock()
		old := s.file
		s.file, s.applied = file, ls
		s.mu.Unlock()
		if old != nil && old != file {
			old.Close()
		}
	}
	return lifecycle.ReloadPart{Changes: logChanges(prev, ls), Apply: apply}, nil
}

// logChanges names the logging settings that differ between old and new,
// by their config-file names, as nats-server's reload log does ("debug =
// true"). max_traced_msg_len is the server's option and logged by it.
func logChanges(old, new logSettings) []string {
	var out []string
	add := func(name string, a, b any) {
		if a != b {
			out = append(out, fmt.Sprintf("%s = %v", name, b))
		}
	}
	add("debug", old.Debug, new.Debug)
	add("trace", old.Trace, new.Trace)
	add("logtime", old.Logtime, new.Logtime)
	add("logtime_utc", old.LogtimeUTC, new.LogtimeUTC)
	add("log_file", old.File, new.File)
	add("log_format", old.Format, new.Format)
	return out
}

// close closes the log file, if any.
func (s *logSink) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil {
		s.file.Close()
	}
}

// reopen reopens the log file, if logging goes to one.
func (s *logSink) reopen() error {
	s.mu.Lock()
	f := s.file
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	return f.Reopen()
}
