package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/natsd/natsd/lifecycle"
)

//go:embed lifecycle.md.tmpl
var guideTemplate string

// machineData is what the guide template knows about one machine.
type machineData struct {
	Decl, File, Name, Initial string
	Mermaid                   string // the stateDiagram-v2, as in NAME.mmd
	States, Events            string // Markdown tables
	Matrix, Callbacks         string // Markdown tables
	MatrixLegend              string // the sentence above Matrix
	NoMoves                   string // Markdown table, with its legend
	SVG, DOT, MMD, Table      string // file names
}

// guideData is the data of lifecycle.md.tmpl. Durations are the defaults
// of the lifecycle package, formatted for people.
type guideData struct {
	Banner           string
	Template         string
	Server, Conn     machineData
	Route            machineData
	LameDuckDuration string
	LameDuckGrace    string
	LameDuckWindow   string
	ShutdownTimeout  string
	UpgradeTimeout   string
	WriteDeadline    string
	PingInterval     string
	PingMax          int
	SkipFlush        string // the texts of the skip-flush reasons
	Reasons          string // the close-reason table
	ReasonsFile      string
}

func newMachineData(d decl) machineData {
	s := d.spec
	return machineData{
		Decl: d.name, File: d.file, Name: s.Name, Initial: s.Initial,
		Mermaid: mermaid(d),
		States:  statesTable(s), Events: eventsTable(s),
		Matrix: matrixTable(s), Callbacks: callbacksTable(s),
		MatrixLegend: matrixLegend, NoMoves: noMovesLegend + noMovesTable(s),
		SVG: svgFile(d), DOT: dotFile(d), MMD: mermaidFile(d), Table: transitionsFile(d),
	}
}

// lifecycleDoc renders lifecycle.md from the template.
func lifecycleDoc() ([]byte, error) {
	t, err := template.New(templateFile).Option("missingkey=error").Parse(guideTemplate)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", templateFile, err)
	}
	data := guideData{
		Banner:           strings.TrimSuffix(mdBanner("fsmgen/"+templateFile+", lifecycle.Machine, conn.Machine and route.Machine"), "\n"),
		Template:         "fsmgen/" + templateFile,
		Server:           newMachineData(machines[0]),
		Conn:             newMachineData(machines[1]),
		Route:            newMachineData(machines[2]),
		LameDuckDuration: human(lifecycle.DefaultLameDuckDuration),
		LameDuckGrace:    human(lifecycle.DefaultLameDuckGracePeriod),
		LameDuckWindow:   human(lifecycle.DefaultLameDuckDuration - lifecycle.DefaultLameDuckGracePeriod),
		ShutdownTimeout:  human(lifecycle.DefaultShutdownTimeout),
		UpgradeTimeout:   human(lifecycle.DefaultUpgradeTimeout),
		WriteDeadline:    human(lifecycle.DefaultWriteDeadline),
		PingInterval:     human(lifecycle.DefaultPingInterval),
		PingMax:          lifecycle.DefaultPingMax,
		SkipFlush:        strings.Join(skipFlushReasons(), ", "),
		Reasons:          reasonsTable(),
		ReasonsFile:      reasonsFile,
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("execute %s: %w", templateFile, err)
	}
	return b.Bytes(), nil
}

// human formats a duration the way the config file takes it, without
// trailing zero units: 2m, 10s, 1m50s.
func human(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
