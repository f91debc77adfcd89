package main

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
)

// carryOver adds to r the rows of an earlier performance.tsv at path for
// every metric this run did not measure (a run with -only measures a few),
// so that the report keeps them; their titles are kept as written. It
// returns the keys carried. A missing or unreadable file carries nothing.
func (r *results) carryOver(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var carried []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for first := true; sc.Scan(); first = false {
		cols := strings.Split(sc.Text(), "\t")
		if first || len(cols) < 15 {
			continue
		}
		key := cols[0]
		if _, measured := r.vals[key]; measured {
			continue
		}
		for i, server := range map[int]string{13: "natsd", 14: "nats-server"} {
			for _, v := range strings.Split(cols[i], ",") {
				if x, err := strconv.ParseFloat(v, 64); err == nil {
					r.add(key, server, x)
				}
			}
		}
		if _, ok := r.vals[key]; ok {
			if r.titles == nil {
				r.titles = map[string]string{}
			}
			r.titles[key] = cols[1]
			carried = append(carried, key)
		}
	}
	return carried
}

// onlyNames lists the scenarios -only asked for, sorted.
func onlyNames(cfg config) []string {
	var out []string
	for k := range cfg.only {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
