package tools

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

func TestDirIsAtTheRepositoryRoot(t *testing.T) {
	t.Setenv(DirEnv, "")
	d, err := Dir()
	assert.NilError(t, err)
	root := filepath.Dir(filepath.Dir(d))
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	assert.NilError(t, err)
	assert.Equal(t, filepath.Base(filepath.Dir(d)), ".tools")
}

func TestDirEnvOverrides(t *testing.T) {
	want := t.TempDir()
	t.Setenv(DirEnv, want)
	d, err := Dir()
	assert.NilError(t, err)
	assert.Equal(t, d, want)
}

func TestInstallReportsAFailure(t *testing.T) {
	bad := Tool{Bin: "nope", Module: "example.invalid/nope", Version: "v0.0.1", VersionArgs: []string{"--version"}}
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	_, err := Install(t.TempDir(), bad, nil)
	assert.ErrorContains(t, err, "go install example.invalid/nope@v0.0.1")
}
