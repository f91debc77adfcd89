package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
)

// renderSVGs renders the DOT file of every machine among files into an SVG.
func renderSVGs(files []file) ([]file, error) {
	var out []file
	for _, d := range machines {
		src, ok := lookup(files, dotFile(d))
		if !ok {
			return nil, fmt.Errorf("no %s to render", dotFile(d))
		}
		svg, err := render(src)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", dotFile(d), err)
		}
		out = append(out, file{svgFile(d), stampSVG(svg, dotFile(d), src)})
	}
	return out, nil
}

func lookup(files []file, name string) ([]byte, bool) {
	for _, f := range files {
		if f.name == name {
			return f.data, true
		}
	}
	return nil, false
}

// svgStamp is the comment fsmgen puts on the second line of an SVG, naming
// the DOT it was rendered from and that DOT's digest.
func svgStamp(dotName string, dot []byte) string {
	return fmt.Sprintf("<!-- %s from %s (sha256 %x); DO NOT EDIT. Run `make docs`. -->\n", banner, dotName, sha256.Sum256(dot))
}

// stampSVG inserts the stamp after the XML declaration, which must stay
// first.
func stampSVG(svg []byte, dotName string, dot []byte) []byte {
	i := bytes.IndexByte(svg, '\n') + 1
	out := make([]byte, 0, len(svg)+128)
	out = append(out, svg[:i]...)
	out = append(out, svgStamp(dotName, dot)...)
	return append(out, svg[i:]...)
}
