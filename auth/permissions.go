package auth

import (
	"reflect"
	"strings"
)

// Perms are a user's permissions compiled for asking. A nil *Perms allows
// everything. Build one with [Compile]; it never changes afterwards.
type Perms struct {
	pub, sub  *list // nil: the direction is not restricted
	resp      *ResponsePermission
	src       Permissions
	subDenies []entry // the subscribe deny list, for the delivery filter
}

// list is one direction's compiled allow and deny lists.
type list struct {
	allow    []entry
	hasAllow bool // false: everything is allowed before the deny list
	deny     []entry
}

// entry is one permission subject, with the queue group a subscribe entry
// may name.
type entry struct {
	subject string
	queue   string
}

// Compile returns p compiled, with allow_responses' defaults applied, or
// nil when p restricts nothing. p must be valid ([Permissions.Validate]).
func Compile(p *Permissions) *Perms {
	p = p.WithResponseDefaults()
	if p == nil || (p.Publish == nil && p.Subscribe == nil && p.Response == nil) {
		return nil
	}
	c := &Perms{src: *p, resp: p.Response}
	c.pub = compileList(p.Publish)
	c.sub = compileList(p.Subscribe)
	if c.sub != nil {
		c.subDenies = c.sub.deny
	}
	return c
}

func compileList(sp *SubjectPermission) *list {
	if sp == nil || (sp.Allow == nil && len(sp.Deny) == 0) {
		return nil
	}
	l := &list{hasAllow: sp.Allow != nil}
	for _, s := range sp.Allow {
		l.allow = append(l.allow, parseEntry(s))
	}
	for _, s := range sp.Deny {
		l.deny = append(l.deny, parseEntry(s))
	}
	return l
}

func parseEntry(s string) entry {
	if f := strings.Fields(s); len(f) == 2 {
		return entry{subject: f[0], queue: f[1]}
	}
	return entry{subject: s}
}

// Equal reports whether p and q were compiled from the same permissions.
func (p *Perms) Equal(q *Perms) bool {
	if p == nil || q == nil {
		return p == q
	}
	return reflect.DeepEqual(p.src, q.src)
}

// Source returns the permissions p was compiled from.
func (p *Perms) Source() Permissions { return p.src }

// RestrictsPublish reports whether publishing is checked at all.
func (p *Perms) RestrictsPublish() bool { return p != nil && p.pub != nil }

// RestrictsSubscribe reports whether subscribing is checked at all.
func (p *Perms) RestrictsSubscribe() bool { return p != nil && p.sub != nil }

// Responses returns allow_responses (with defaults applied), or nil.
func (p *Perms) Responses() *ResponsePermission {
	if p == nil {
		return nil
	}
	return p.resp
}

// Publish reports whether the lists allow publishing to subject (a literal
// publish subject): allowed by the allow list (if any), then not denied.
// It does not consider allow_responses; see [Replies].
func (p *Perms) Publish(subject string) bool {
	if p == nil || p.pub == nil {
		return true
	}
	l := p.pub
	if l.hasAllow && !anyMatch(l.allow, subject) {
		return false
	}
	return !anyMatch(l.deny, subject)
}

func anyMatch(es []entry, subject string) bool {
	for i := range es {
		if Matches(es[i].subject, subject) {
			return true
		}
	}
	return false
}

// Subscribe reports whether the user may subscribe to subject (wildcards
// allowed) in queue group queue ("" for none), as nats-server decides: an
// allow list must match the subject; if entries naming a queue group match
// it, a queue subscription must be in one of those groups. A matching deny
// entry without a group refuses it, and one with a group refuses that
// group.
func (p *Perms) Subscribe(subject, queue string) bool {
	if p == nil || p.sub == nil {
		return true
	}
	l := p.sub
	if l.hasAllow {
		plain, queued, inGroup := matchEntries(l.allow, subject, queue)
		allowed := plain
		if queue != "" && queued {
			allowed = inGroup
		}
		if !allowed {
			return false
		}
	}
	plain, queued, inGroup := matchEntries(l.deny, subject, queue)
	if plain {
		return false
	}
	return !(queue != "" && queued && inGroup)
}

// matchEntries matches subject against es: whether an entry without a
// group matched, whether one with a group matched, and whether queue is
// one of the groups that matched.
func matchEntries(es []entry, subject, queue string) (plain, queued, inGroup bool) {
	for i := range es {
		e := &es[i]
		if !Matches(e.subject, subject) {
			continue
		}
		if e.queue == "" {
			plain = true
			continue
		}
		queued = true
		if queue == e.queue || (hasWildcard(e.queue) && subsetMatch(queue, e.queue)) {
			inGroup = true
		}
	}
	return plain, queued, inGroup
}

// NeedsDeliveryFilter reports whether an allowed subscription to subject
// in queue can receive messages the subscribe deny list forbids: it is a
// wildcard or queue subscription that collides with a deny entry. Such a
// subscription's messages must be checked with [Perms.DeliveryDenied].
func (p *Perms) NeedsDeliveryFilter(subject, queue string) bool {
	if p == nil || len(p.subDenies) == 0 || (queue == "" && !hasWildcard(subject)) {
		return false
	}
	for i := range p.subDenies {
		if Collide(p.subDenies[i].subject, subject) {
			return true
		}
	}
	return false
}

// DeliveryDenied reports whether a message on the literal subject must not
// be delivered to a subscription in queue ("" for none) that
// [Perms.NeedsDeliveryFilter] flagged.
func (p *Perms) DeliveryDenied(subject, queue string) bool {
	if p == nil || len(p.subDenies) == 0 {
		return false
	}
	plain, queued, inGroup := matchEntries(p.subDenies, subject, queue)
	return plain || (queue != "" && queued && inGroup)
}
