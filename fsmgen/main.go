package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "docs", "directory to write the generated files to")
	flag.Parse()
	if err := run(*out, true); err != nil {
		fmt.Fprintf(os.Stderr, "fsmgen: %v\n", err)
		os.Exit(1)
	}
}

// run generates every file, the SVGs only if svg is set, and writes those
// whose bytes changed into dir.
func run(dir string, svg bool) error {
	files, err := generate()
	if err != nil {
		return err
	}
	if svg {
		svgs, err := renderSVGs(files)
		if err != nil {
			return err
		}
		files = append(files, svgs...)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, f := range files {
		if err := writeIfChanged(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

// writeIfChanged replaces path with data atomically, and leaves it alone
// (modification time included) when it already holds data.
func writeIfChanged(path string, data []byte) error {
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, data):
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("read %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
