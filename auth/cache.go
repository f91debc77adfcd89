package auth

// pubCacheSize bounds a [PubCache], as nats-server bounds its per-client
// publish permission cache.
const pubCacheSize = 128

// PubCache remembers a connection's publish verdicts per subject, so that
// a user with permissions pays one map lookup per published subject after
// the first. It belongs to one connection's reader and is not safe for
// concurrent use. The zero value is ready.
type PubCache struct {
	perms *Perms
	m     map[string]bool
}

// Allowed returns p.Publish(subject), from the cache when subject was
// asked before with the same p. A different p (a reload changed the
// permissions) empties the cache first. Looking up does not allocate.
func (c *PubCache) Allowed(p *Perms, subject []byte) bool {
	if c.perms != p {
		c.perms, c.m = p, nil
	}
	if v, ok := c.m[string(subject)]; ok {
		return v
	}
	v := p.Publish(string(subject))
	if c.m == nil {
		c.m = make(map[string]bool)
	}
	if len(c.m) >= pubCacheSize {
		// Drop about half, in map order (random enough to keep the hot
		// subjects on average).
		n := 0
		for k := range c.m {
			delete(c.m, k)
			if n++; n >= pubCacheSize/2 {
				break
			}
		}
	}
	c.m[string(subject)] = v
	return v
}
