package listener

import (
	"slices"
	"testing"
	"time"
)

func TestBackoffSequence(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		ops  string // d: take a delay, r: reset
		want []time.Duration
	}{
		{"doubles then caps", "ddddddddd", []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second}},
		{"reset starts over", "dddrdd", []time.Duration{10 * ms, 20 * ms, 40 * ms, 10 * ms, 20 * ms}},
		{"reset at the cap", "ddddddddrd", []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, 10 * ms}},
		{"reset before any delay", "rd", []time.Duration{10 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b backoff
			var got []time.Duration
			for _, op := range tt.ops {
				switch op {
				case 'd':
					got = append(got, b.delay())
				case 'r':
					b.reset()
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("delays = %v, want %v", got, tt.want)
			}
		})
	}
}
