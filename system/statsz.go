package system

// broadcastStatsz publishes STATSZ on the server's broadcast subject, when
// anyone listens there.
func (c *Client) broadcastStatsz() {
	if subj := serverSubject(c.cfg.ID, "STATSZ"); c.interested(subj) {
		c.sendStatsz(subj)
	}
}

// sendStatsz sends the STATSZ message to subj: the /varz counters, the
// routes' traffic, the active accounts and servers.
func (c *Client) sendStatsz(subj string) {
	v := c.cfg.Monitor.Varz()
	m := &ServerStatsMsg{Stats: ServerStats{
		Start:               v.Start,
		Mem:                 v.Mem,
		Cores:               v.Cores,
		CPU:                 v.CPU,
		Connections:         v.Connections,
		TotalConnections:    v.TotalConnections,
		ActiveAccounts:      c.activeAccounts(),
		NumSubs:             v.Subscriptions,
		Sent:                DataStats{MsgBytes: MsgBytes{Msgs: v.OutMsgs, Bytes: v.OutBytes}},
		SentToClients:       DataStats{MsgBytes: MsgBytes{Msgs: v.OutClientMsgs, Bytes: v.OutClientBytes}},
		Received:            DataStats{MsgBytes: MsgBytes{Msgs: v.InMsgs, Bytes: v.InBytes}},
		ReceivedFromClients: DataStats{MsgBytes: MsgBytes{Msgs: v.InClientMsgs, Bytes: v.InClientBytes}},
		SlowConsumers:       v.SlowConsumers,
		StaleConnections:    v.StaleConnections,
		ActiveServers:       c.activeServers(),
		MaxProcs:            v.MaxProcs,
	}}
	if v.SlowConsumers > 0 {
		m.Stats.SlowConsumersStats = &SlowConsumersStats{Clients: uint64(v.SlowConsumers)}
	}
	for _, r := range c.cfg.Monitor.Routez(false).Routes {
		m.Stats.Routes = append(m.Stats.Routes, &RouteStat{
			ID: r.Rid, Name: r.RemoteName, Pending: r.Pending,
			Sent:     DataStats{MsgBytes: MsgBytes{Msgs: r.OutMsgs, Bytes: r.OutBytes}},
			Received: DataStats{MsgBytes: MsgBytes{Msgs: r.InMsgs, Bytes: r.InBytes}},
		})
	}
	c.send(&outMsg{subj: subj, si: &m.Server, v: m})
}
