package conn

// SendAsyncInfo sends the client an asynchronous INFO whose connect_urls
// are urls, with "ldm":true when ldm is set: the cluster changed (a server
// joined, left or entered lame duck) or this server entered lame duck.
// Like nats-server, it goes only to a client that declared protocol ≥ 1 in
// CONNECT; older clients would not understand an INFO after the first. The
// INFO is otherwise the one the client got when it connected.
func (c *Conn) SendAsyncInfo(urls []string, ldm bool) {
	c.mu.Lock()
	proto := c.opts.Protocol
	c.mu.Unlock()
	if proto < 1 {
		return
	}
	info := c.cfg.Info
	info.ConnectURLs = urls
	c.sendInfoFrom(info, ldm)
}
