// Command report prints the table of figures that the reliability suites
// recorded during `make soak`, with the machine they ran on, and with
// -doc rewrites the table section of that Markdown file.
//
//	go run ./internal/soak/report -in bin/soak.jsonl [-doc docs/reliability.md]
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/natsd/natsd/internal/soak"
)

// The doc's generated section lies between these two lines.
const (
	beginMark = "<!-- soak:begin (written by make soak) -->"
	endMark   = "<!-- soak:end -->"
)

func main() {
	in := flag.String("in", "", "figures recorded by the suites (JSON lines)")
	doc := flag.String("doc", "", "Markdown file whose soak section to rewrite")
	flag.Parse()
	if err := run(*in, *doc); err != nil {
		fmt.Fprintf(os.Stderr, "report: %v\n", err)
		os.Exit(1)
	}
}

func run(in, doc string) error {
	if in == "" {
		return errors.New("-in is required")
	}
	figs, err := soak.Read(in)
	if err != nil {
		return err
	}
	if len(figs) == 0 {
		return fmt.Errorf("%s holds no figures: did the soak suites run?", in)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Run %s on %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), machine())
	soak.WriteTable(&b, figs)
	panics := 0
	for _, f := range figs {
		panics += f.Panics
	}
	os.Stdout.Write(b.Bytes())
	if doc != "" {
		if err := rewrite(doc, b.String()); err != nil {
			return err
		}
		fmt.Printf("\n(table written to %s)\n", doc)
	}
	if panics > 0 {
		return fmt.Errorf("%d panic(s) recorded", panics)
	}
	return nil
}

// machine describes this machine: CPU model, cores, memory, kernel, Go.
func machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				var kib int64
				fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "MemTotal:")), "%d", &kib)
				mem = fmt.Sprintf(", %.0f GiB RAM", float64(kib)/(1<<20))
			}
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, nproc %d%s%s, %s", model, runtime.NumCPU(), mem, kernel, runtime.Version())
}

// rewrite replaces what lies between the marks in doc with section, or
// appends the marks and the section if the doc has none.
func rewrite(doc, section string) error {
	old, err := os.ReadFile(doc)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	text := string(old)
	block := beginMark + "\n" + section + endMark
	i := strings.Index(text, beginMark)
	j := strings.Index(text, endMark)
	if i >= 0 && j > i {
		text = text[:i] + block + text[j+len(endMark):]
	} else {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += "\n" + block + "\n"
	}
	return os.WriteFile(doc, []byte(text), 0o644)
}
