// Package conn is one client connection of a natsd server: its declared
// state machine ([Machine]: Open → Closing → Closed), its close reasons
// ([ClosedState]), its reader and its writer. A connection takes its limits
// and INFO from the [Config] it was created with and shares one [Shared]
// value (the subject index, the counters, the logger, the random source and
// the server's hook for closed connections) with every other connection of
// the server; it never calls up into the server on the hot path.
//
// # Goroutines and who owns what
//
// Each connection runs its reader goroutine ([Conn.Run]) and, only when it
// needs one, a writer goroutine:
//
//   - The reader reads the socket, parses, and acts on each operation: it
//     subscribes, and a PUB is delivered by the reader itself straight into
//     each subscriber's outbound buffer. The reader alone touches the
//     parser, the set of connections its current read queued output to
//     (pcd), its stall budget (stalled), its per-read counters and its
//     random source (rnd); it writes c.opts, which others read under c.mu.
//   - Output is written by whoever queued it (writer.go): at the end of a
//     read, the reader writes what it queued to each connection (its own
//     PONG included) inline, with one non-blocking writev, when it is
//     small and nobody else is writing it; so does the ping timer.
//   - The writer goroutine is started when that is not enough: a socket
//     that did not take everything, a backlog, TLS, or a final flush with
//     output left. It waits on c.wake (a sync.Cond on c.mu), takes the
//     whole queued chunk list and writes it with one writev, within
//     write_deadline. Once the connection is closing it does the final
//     flush (unless a skip-flush reason was recorded) and ends the read.
//     A connection closing without one ends its writer role at once when
//     nothing is left to write.
//   - One writer at a time: whoever writes holds c.out.writing, and looks
//     at the queue again when done.
//
// Whichever of the reader and the writer role ends last closes the socket
// and fires done, so neither ever waits for the other to let go of the
// socket.
//
// # The cluster and other producers
//
// In a cluster, [Shared.Router] (router.go) is told every change of an
// account's interest by [Account] insert and remove, and is handed each
// local producer's message twice: after its local match ([Router.Plan]:
// it may take queue groups away from local delivery, the cluster-wide
// choice) and after the local delivery ([Router.Send]: the routes get the
// message, and a group whose local members all failed goes to another
// server's member); it names the route writers the reader wakes at the
// end of its read. A stream import is a shadow of each importing
// subscription in the exporting account (shadow.go), so its interest and
// its queue groups are the exporter's in the cluster. A [Producer]
// (producer.go) delivers like a client's reader for what is not a socket
// client: a route's reader (local subscribers only: one hop) or an
// internal client; [Account.Subscribe] gives the latter its internal
// subscriptions, whose handlers run on the delivering producer's
// goroutine.
//
// # What c.mu guards
//
// c.mu guards the outbound buffer (chunks, pending bytes, the stall gate),
// the subscriptions, the client's CONNECT options, the ping timer and the
// ping and RTT bookkeeping. The state, the close reason and its flags, the
// number of live goroutines, the time of the last input, the message
// counters and the time each state was entered are atomics: monitoring
// reads them without the lock (see [Conn.Snapshot], [Conn.State]). The
// state changes under c.mu (in fire), so code that queues output
// under c.mu never queues after Open has been left.
//
// # Invariants
//
//   - The machine only moves forward, along the compiled [machine.Table]
//     of [Machine]; a transition's work is done in its callbacks (leave
//     open: stop the ping timer; enter closing: flush or skip; enter
//     closed: release subscriptions, hand the connection to the server).
//   - The first close reason recorded is the one reported; a later
//     skip-flush reason still turns the final flush off (and closes the
//     socket at once if a flush is under way).
//   - deliver never holds two connections' locks: a publisher takes only
//     the subscriber's c.mu, never its own at the same time, so no lock
//     order exists to get wrong.
//   - Writes are batched: a reader remembers every connection it queued
//     output to during one read and flushes each once at the end of the
//     read (flushPending), except when a subscriber already has
//     flushNowBytes queued, whose writer goroutine is woken at once.
//   - Fast-producer stall, as nats-server's: over three quarters of
//     max_pending a subscriber puts up a stall gate; a publisher delivering
//     to it waits on the gate up to 2 ms (5 ms once at max_pending), and at
//     most 10 ms per read of its own, before queuing; the writer opens the
//     gate after each write. Over max_pending the subscriber is closed as a
//     slow consumer instead of growing.
//   - A slow consumer (over max_pending, or a write that hit
//     write_deadline, the final flush included) is counted and logged once
//     per connection, where it is detected.
//   - Once closing, input is no longer processed; only a PONG is looked
//     for, so that a shutdown's close that follows an unanswered PING waits
//     for it rather than resetting the connection (see endRead).
//   - An idle connection holds no output buffer: chunks come from shared
//     pools and go back after each write.
package conn
