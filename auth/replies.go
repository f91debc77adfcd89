package auth

import "time"

// repliesPruneAt is the number of tracked reply subjects at which expired
// ones are pruned.
const repliesPruneAt = 4096

// Replies tracks the reply subjects of messages delivered to a connection
// whose user has allow_responses, so that it may answer them. It is not
// safe for concurrent use (its connection guards it); the zero value is
// ready. Times are passed in.
type Replies struct {
	m map[string]reply
}

type reply struct {
	n int       // replies sent so far
	t time.Time // when the request was delivered
}

// Add records that a message with reply subject subject was delivered at
// now.
func (r *Replies) Add(subject string, now time.Time, rp *ResponsePermission) {
	if r.m == nil {
		r.m = make(map[string]reply)
	}
	if len(r.m) >= repliesPruneAt {
		r.prune(now, rp)
	}
	r.m[subject] = reply{t: now}
}

// Allow reports whether a publish to subject at now answers a tracked
// request within rp's limits, and counts it. An answer over the limit or
// too late is refused and forgets the request.
func (r *Replies) Allow(subject string, now time.Time, rp *ResponsePermission) bool {
	e, ok := r.m[subject]
	if !ok || rp == nil {
		return false
	}
	e.n++
	if (rp.MaxMsgs > 0 && e.n > rp.MaxMsgs) || (rp.Expires > 0 && now.Sub(e.t) > rp.Expires) {
		delete(r.m, subject)
		return false
	}
	r.m[subject] = e
	return true
}

// Len returns the number of tracked reply subjects.
func (r *Replies) Len() int { return len(r.m) }

// prune forgets the requests that can no longer be answered.
func (r *Replies) prune(now time.Time, rp *ResponsePermission) {
	for k, e := range r.m {
		if rp == nil || (rp.MaxMsgs > 0 && e.n >= rp.MaxMsgs) || (rp.Expires > 0 && now.Sub(e.t) > rp.Expires) {
			delete(r.m, k)
		}
	}
}
