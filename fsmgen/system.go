package main

import (
	"fmt"
	"strings"

	"github.com/natsd/natsd/lifecycle"
	"github.com/natsd/natsd/system"
)

// systemFile documents the system account's events and requests.
const systemFile = "system-account.md"

// systemDoc is system-account.md: the subjects of the system account, from
// system.Events and system.Requests, and the LIFECYCLE events a watcher
// can see, from lifecycle.Machine.
func systemDoc() string {
	s := lifecycle.Machine
	var b strings.Builder
	b.WriteString(mdBanner("lifecycle.Machine (lifecycle/state.go), system.Events and system.Requests (system/subjects.go)"))
	b.WriteString("\n# The system account: events and requests\n\n")
	b.WriteString("The system account's internal client ([`system`](../system)) publishes the server's events " +
		"and answers the server requests with nats-server's subjects and JSON, so `nats server list`, " +
		"`ping`, `info`, `report connections`, `request ...` and `nats events` work against natsd. " +
		"Only users of the system account (`system_account`, `$SYS` by default) reach any of it: " +
		"events are published in that account and the requests are subscriptions of that account, " +
		"so a client of any other account that subscribes to `$SYS.>` gets nothing, and its " +
		"request to `$SYS.REQ.SERVER.PING` gets the no-responders status. With `no_system_account` " +
		"none of it runs. `<id>` is the server id (its public NKey), `<acc>` an account name.\n\n")
	b.WriteString("## Events\n\n| subject | when, and what it carries |\n|---|---|\n")
	for _, e := range system.Events {
		fmt.Fprintf(&b, "| %s | %s |\n", code(e.Subject), cell(e.Doc))
	}
	b.WriteString("\nAn event nobody subscribed to is not built. The connection events run on the " +
		"connection's goroutine only as far as checking for a subscriber and queuing; " +
		"all are published in order by one goroutine.\n")

	b.WriteString("\n## LIFECYCLE: every server transition\n\n")
	fmt.Fprintf(&b, "natsd's own event, on %s, of type %s: the server object, then the transition as "+
		"[`/lifecyclez`](lifecycle.md) records it — `from`, `to`, `event`, `cause` (who asked: "+
		"`signal SIGUSR2`, `system account request`, `lame duck drain complete`, ...), `at`. "+
		"These are the transitions of the declared server machine ([%s](%s)) a watcher can see; "+
		"the first one (%s → %s) happens before the system account's client starts, and the "+
		"last (%s → %s) after every connection is closed, so neither reaches anyone.\n\n",
		code("$SYS.SERVER.<id>.LIFECYCLE"), code(system.LifecycleEventType),
		transitionsFile(machines[0]), transitionsFile(machines[0]),
		code(lifecycle.Init.String()), code(lifecycle.Listening.String()),
		code(lifecycle.ShuttingDown.String()), code(lifecycle.Stopped.String()))
	b.WriteString("| from | to | event | who sends it |\n|---|---|---|---|\n")
	for _, ev := range s.EventNames() {
		from, to := sources(s, ev)
		for _, f := range from {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code(f), code(to), code(ev), cell(s.Sender(f, ev)))
		}
	}
	ld, _ := s.Next(lifecycle.Listening.String(), lifecycle.EventEnterLameDuck)
	sd, _ := s.Next(ld, lifecycle.EventShutdown)
	fmt.Fprintf(&b, "\nDuring a lame-duck drain a watcher in the system account reads, in this order: "+
		"%s, LIFECYCLE %s → %s, LIFECYCLE %s → %s, %s; then its connection is closed. "+
		"The drain closes every other client over the lame-duck window and leaves the system "+
		"account's clients to the shutdown that ends it, after the SHUTDOWN event, so that "+
		"operators watching the server see the drain through.\n",
		code("LAMEDUCK"), code(lifecycle.Listening.String()), code(ld), code(ld), code(sd), code("SHUTDOWN"))

	b.WriteString("\n## Requests\n\n")
	b.WriteString("Every answer but IDZ's and STATSZ's is the envelope `{\"server\": {...}, \"data\": ..., \"error\": " +
		"{\"code\": ..., \"description\": ...}}`. A request's JSON body may carry the filters " +
		"`server_name`, `host`, `cluster` (substrings, or exact with `exact_match`), `tags` and " +
		"`domain` (natsd has neither, so a filter on them never matches): a server that does not " +
		"match does not answer. A body that is not JSON is answered with code 400; a request the " +
		"data refuses with 500. `$SYS.REQ.SERVER.PING` (with an empty body) answers the STATSZ " +
		"message; without a reply subject it publishes it on `$SYS.SERVER.<id>.STATSZ`. " +
		"A requester that sends `Accept-Encoding: gzip` gets the answer compressed " +
		"(`Content-Encoding: gzip`); snappy and s2 are answered uncompressed.\n\n")
	b.WriteString("| subjects | answer | |\n|---|---|---|\n")
	for _, r := range system.Requests {
		subjects := code("$SYS.REQ.SERVER.<id>." + r.Kind)
		if r.Ping {
			subjects = code("$SYS.REQ.SERVER.PING."+r.Kind) + ", " + subjects
		}
		who := "as nats-server"
		if r.NatsdOnly {
			who = "natsd's own"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", subjects, cell(r.Doc), who)
	}
	return b.String()
}
