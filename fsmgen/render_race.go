//go:build race

package main

import "errors"

// canRender reports whether this build renders SVGs. Under -race it does
// not: go-graphviz compiles its WebAssembly module when its package
// initialises, in every binary that links it, and the race detector slows
// that to 7-27 s on a cold cache (see the package doc).
const canRender = false

func render([]byte) ([]byte, error) {
	return nil, errors.New("fsmgen renders no SVG in a -race build; run it without -race (make docs)")
}
