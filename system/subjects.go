package system

// The subjects of the system account, as nats-server's (events.go), with
// %s-free builders. <id> is the server id, <acc> an account name.
const (
	pingSubject        = "$SYS.REQ.SERVER.PING"
	pingKindPrefix     = "$SYS.REQ.SERVER.PING."
	serverReqPrefix    = "$SYS.REQ.SERVER."
	accountEventPrefix = "$SYS.ACCOUNT."
	serverEventPrefix  = "$SYS.SERVER."
)

// Event names the subjects events are published on.
type Event struct {
	// Subject is the subject pattern, with <id> and <acc> for the server
	// id and the account.
	Subject string
	// Doc says when it is published and what it carries.
	Doc string
}

// Events are the events the system client publishes, in the order a
// watcher sees a server's life. fsmgen documents them from this table.
var Events = []Event{
	{"$SYS.ACCOUNT.<acc>.CONNECT", "A client authenticated (client_connect advisory: server, client)."},
	{"$SYS.ACCOUNT.<acc>.DISCONNECT", "A client's connection closed (client_disconnect advisory: client with rtt and stop, sent and received counters, reason = the close reason's text)."},
	{"$SYS.ACCOUNT.<acc>.SERVER.CONNS", "The account's number of connections changed, and every 30 s while it has any (account_connections; also on the older $SYS.SERVER.ACCOUNT.<acc>.CONNS). Not for the global account."},
	{"$SYS.SERVER.<id>.CLIENT.AUTH.ERR", "A client failed to authenticate (client_disconnect advisory, reason \"Authentication Failure\")."},
	{"$SYS.SERVER.<id>.STATSZ", "The server's statistics (server, statsz), 250 ms after start and then at doubling intervals up to every 10 s, while anyone listens (always in a cluster: the other servers listen); and on a $SYS.REQ.SERVER.PING without a reply subject. Its active_servers is 1 + the other servers heard from: those whose STATSZ came in, until their SHUTDOWN or LAMEDUCK event or 150 s of silence."},
	{"$SYS.SERVER.<id>.LAMEDUCK", "The server entered lame duck (the bare server object), published just before the LIFECYCLE event of that transition."},
	{"$SYS.SERVER.<id>.LIFECYCLE", "natsd's own: every transition of the server's state machine (server, from, to, event, cause, at), as /lifecyclez records it."},
	{"$SYS.SERVER.<id>.SHUTDOWN", "The server is shutting down (the bare server object): the last message the system client publishes, queued to every subscriber before any connection is closed, so it is flushed to them."},
}

// Request is one kind of request the system client answers.
type Request struct {
	// Kind is the last token of the subject: $SYS.REQ.SERVER.<id>.<Kind>,
	// and $SYS.REQ.SERVER.PING.<Kind> when Ping is set.
	Kind string
	Ping bool
	// Doc says what the answer holds.
	Doc string
	// NatsdOnly marks natsd's own requests.
	NatsdOnly bool
}

// Requests are the requests the system client answers, in the order of
// nats-server's (natsd's own last). Every answer but IDZ's and STATSZ's is
// the {server, data, error} envelope; a request's JSON body may carry the
// filters (server_name, host, cluster, exact_match, tags, domain), and a
// server that does not match them does not answer. fsmgen documents them
// from this table, and the client subscribes from it.
var Requests = []Request{
	{Kind: "IDZ", Ping: true, Doc: "The server's name, host and id (a bare object, no envelope)."},
	{Kind: "STATSZ", Ping: true, Doc: "The STATSZ message (server, statsz); $SYS.REQ.SERVER.PING answers the same."},
	{Kind: "VARZ", Ping: true, Doc: "The /varz data."},
	{Kind: "SUBSZ", Ping: true, Doc: "The /subsz data; the body takes offset, limit, subscriptions, account and test."},
	{Kind: "CONNZ", Ping: true, Doc: "The /connz data; the body takes sort, auth, subscriptions, offset, limit, cid, state (0 open, 1 closed, 2 any), user and acc."},
	{Kind: "ROUTEZ", Ping: true, Doc: "The /routez data; the body takes subscriptions."},
	{Kind: "ACCOUNTZ", Ping: true, Doc: "The /accountz data; the body takes account."},
	{Kind: "HEALTHZ", Ping: true, Doc: "The /healthz answer, with status_code."},
	{Kind: "KICK", Doc: "Closes the client whose id is the body's cid (close reason Kicked); the envelope has no data, or the error."},
	{Kind: "LDM", Doc: "Sends the client whose id is the body's cid the lame-duck INFO, so it reconnects elsewhere; the envelope has no data, or the error."},
	{Kind: "LIFECYCLEZ", Ping: true, Doc: "The /lifecyclez data.", NatsdOnly: true},
	{Kind: "LAMEDUCK", Doc: "Puts the whole server into lame duck, as SIGUSR2 does, and answers with the drain plan (state, clients, system_clients, start, grace_period, duration, closes_from, expected_end); refused (code 409) unless the server is listening or already in lame duck.", NatsdOnly: true},
}

// subjectsFor returns the subjects on which the server with id answers r.
func subjectsFor(r Request, id string) []string {
	out := []string{serverReqPrefix + id + "." + r.Kind}
	if r.Ping {
		out = append(out, pingKindPrefix+r.Kind)
	}
	return out
}

func connectSubject(acc string) string    { return accountEventPrefix + acc + ".CONNECT" }
func disconnectSubject(acc string) string { return accountEventPrefix + acc + ".DISCONNECT" }
func connsSubjects(acc string) []string {
	return []string{serverEventPrefix + "ACCOUNT." + acc + ".CONNS", accountEventPrefix + acc + ".SERVER.CONNS"}
}
func serverSubject(id, what string) string { return serverEventPrefix + id + "." + what }
