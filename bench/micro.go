package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// The Go micro-benchmarks the report includes: the parser, subject
// matching, the outbound buffer and the connection state machine.
var microPkgs = []string{"./conn/", "./conn/parser/", "./conn/subject/"}

const microBenchtime = "300ms"

type microResult struct {
	pkg, name                  string
	nsOp, bOp, allocsOp, other string
}

// runMicro runs the micro-benchmarks once and parses go test's lines.
func runMicro() ([]microResult, error) {
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", microBenchtime, "-count", "1"}, microPkgs...)
	cmd := exec.Command("go", args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test -bench: %w\n%s", err, out.String())
	}
	return parseMicro(out.String()), nil
}

// parseMicro reads "pkg: ..." and "BenchmarkX-2  N  1.0 ns/op  ..." lines.
func parseMicro(out string) []microResult {
	var res []microResult
	pkg := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), "github.com/natsd/natsd/")
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		m := microResult{pkg: pkg, name: f[0]}
		var other []string
		for i := 2; i+1 < len(f); i += 2 {
			v, unit := f[i], f[i+1]
			switch unit {
			case "ns/op":
				m.nsOp = v
			case "B/op":
				m.bOp = v
			case "allocs/op":
				m.allocsOp = v
			default:
				other = append(other, v+" "+unit)
			}
		}
		m.other = strings.Join(other, ", ")
		res = append(res, m)
	}
	return res
}
