package monitor

import (
	"strconv"
	"time"
)

// formatUptime renders d in whole seconds the way nats-server's monitoring
// does: the largest non-zero unit first and every smaller one after it,
// with years of 365 days ("1y2d3h4m5s", "3m0s", "42s"). Negative durations
// read as "0s".
func formatUptime(d time.Duration) string {
	secs := int64(d / time.Second)
	if secs < 0 {
		secs = 0
	}
	units := []struct {
		suffix string
		n      int64
	}{
		{"y", secs / (365 * 24 * 3600)},
		{"d", secs / (24 * 3600) % 365},
		{"h", secs / 3600 % 24},
		{"m", secs / 60 % 60},
		{"s", secs % 60},
	}
	var b []byte
	for i, u := range units {
		if len(b) == 0 && u.n == 0 && i < len(units)-1 {
			// Leading zero units are left out, except when a larger unit
			// was already written (then "1h0m5s" keeps its zero minutes).
			continue
		}
		b = strconv.AppendInt(b, u.n, 10)
		b = append(b, u.suffix...)
	}
	return string(b)
}

// formatRTT renders a round-trip time as nats-server does: truncated to
// whole microseconds between 1µs and 1ms, as is otherwise; "0s" when none
// was measured yet.
func formatRTT(rtt time.Duration) string {
	if rtt > time.Microsecond && rtt < time.Millisecond {
		rtt = rtt.Truncate(time.Microsecond)
	}
	return rtt.String()
}
