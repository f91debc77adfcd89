package parser

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/golden"
)

// seedNames picks the streams written to testdata/fuzz/FuzzParse: a few
// valid ones and one per error kind. Regenerate with
// `go test ./conn/parser -run TestFuzzSeedCorpus -update`.
var seedNames = []string{
	"session",
	"pub body with CRLF",
	"hpub",
	"client INFO ignored",
	"body shorter than size",
	"HPUB header larger than total",
	"SUB line too long",
	"HPUB over max_payload",
	"client -ERR",
}

// seedStep is the chunk-size byte stored with each seed.
const seedStep = 3

// seedFile names a seed's corpus file: the stream name in lower case with
// each run of other characters turned into one '-'.
func seedFile(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return path.Join("fuzz", "FuzzParse", strings.Trim(b.String(), "-"))
}

func TestFuzzSeedCorpus(t *testing.T) {
	byName := map[string]stream{}
	for _, s := range allStreams() {
		byName[s.name] = s
	}
	for _, name := range seedNames {
		s, ok := byName[name]
		assert.Assert(t, ok, "no stream named %q", name)
		// The encoding of `go test` fuzz corpus files, version 1.
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbyte(%q)\n", s.in, byte(seedStep))
		golden.AssertBytes(t, []byte(data), seedFile(name))
	}
}

// FuzzParse parses arbitrary input whole and in chunks of 1 to 16 bytes
// (chosen by step) and requires: no panic, every slice handed over inside
// the read buffer or the Parser's scratch space with len == cap, at most
// one call per input byte, only ProtoErrors (the handler never fails), and
// the same calls and error kind both ways.
func FuzzParse(f *testing.F) {
	for _, s := range allStreams() {
		f.Add([]byte(s.in), byte(seedStep))
	}
	f.Fuzz(func(t *testing.T, in []byte, step byte) {
		whole := feed(New(testMCL, testMPay), in)
		checkFuzzResult(t, in, whole)

		n := int(step)%16 + 1
		var cuts []int
		for c := n; c < len(in); c += n {
			cuts = append(cuts, c)
		}
		chunked := feed(New(testMCL, testMPay), in, cuts...)
		checkFuzzResult(t, in, chunked)

		assert.DeepEqual(t, chunked.calls, whole.calls)
		assert.Equal(t, kind(chunked.err), kind(whole.err))
	})
}

func checkFuzzResult(t *testing.T, in []byte, r result) {
	t.Helper()
	assert.Assert(t, len(r.bad) == 0, "%v", r.bad)
	assert.Assert(t, len(r.calls) <= len(in), "%d calls from %d bytes", len(r.calls), len(in))
	if r.err == nil {
		return
	}
	k := kind(r.err)
	assert.Assert(t, k >= UnknownOp && k <= ClientErr, "not a ProtoError: %v", r.err)
	pe := r.err.(*ProtoError)
	assert.Equal(t, pe.SendErr, k.SendErr())
	// Only a PUB or HPUB can announce too big a body.
	if k == MaxPayload {
		assert.Assert(t, bytes.Contains(bytes.ToUpper(in), []byte("PUB")))
	}
}
