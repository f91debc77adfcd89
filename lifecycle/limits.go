package lifecycle

import "github.com/natsd/natsd/conn"

// applyLimits makes the limits of cfg that a reload can change
// (max_payload, max_control_line, max_pending, max_subscriptions,
// write_deadline, ping_interval, ping_max; see [conn.Limits]) those of every
// client, open or accepted from now on, from the moment it returns. The
// clients read the limits at each use, so none accepted meanwhile misses
// them; each open client is told only so that its ping timer follows a new
// interval.
func (s *Server) applyLimits(cfg *conn.Config) {
	s.shared.SetLimits(cfg)
	for _, c := range s.Clients() {
		c.LimitsChanged()
	}
}
