//go:build !race

package main

import (
	"bytes"
	"context"

	"github.com/goccy/go-graphviz"
)

// canRender reports whether this build renders SVGs (it does not under
// -race; see the package doc).
const canRender = true

// render lays out a DOT graph with the dot engine and returns it as SVG.
// go-graphviz runs Graphviz compiled to WebAssembly in pure Go, so no
// system package is needed; its output is the same bytes on every run.
func render(src []byte) ([]byte, error) {
	ctx := context.Background()
	g, err := graphviz.New(ctx)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	graph, err := graphviz.ParseBytes(src)
	if err != nil {
		return nil, err
	}
	defer graph.Close()
	var buf bytes.Buffer
	if err := g.Render(ctx, graph, graphviz.SVG, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
