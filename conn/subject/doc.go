// Package subject holds the subject index: the structure that answers, for
// every published message, "which subscriptions want this subject?". It also
// holds the checks that decide whether a SUB subject, a PUB subject or a queue
// group name is acceptable.
//
// # Subjects
//
// A subject is a list of tokens separated by '.'. In a subscription subject a
// token that is exactly "*" matches any one token, and a final token that is
// exactly ">" matches one or more trailing tokens. A '*' or '>' that is only
// part of a token ("*a", "a>") is an ordinary character, as in NATS. See
// [ValidSubject], [ValidLiteralSubject] and [ValidQueue].
//
// # The index
//
// [Index] is generic over the subscription type T, so it knows nothing about
// connections. A subscription is the triple (subject, queue, item); queue ""
// means a plain, non-queue subscription. [Index.Match] returns a [Result]
// holding the plain matches and one slice per matching queue group, where a
// group gathers the members of that queue name over every matching
// subscription subject.
//
// Match is served from a bounded, lock-free cache for subjects seen before.
// An entry holds the trie nodes at which the subject's matching
// subscription subjects end, and the last result built from them. Each node
// publishes an immutable snapshot of its subscriptions (persistent lists,
// see vec.go) with every change; a Match whose entry's nodes kept their
// snapshots returns the memoized result, else it builds a new one from the
// snapshots, outside any lock. A miss walks the trie under the read lock
// only to collect the nodes. Insert and Remove take the write lock for
// O(tokens + log n) work, plus at most a scan of the bounded cache: they
// change one node's sets and replace its snapshot; an Insert that creates
// nodes clears the entries that could reach them, and a Remove clears the
// entries its subject matches, so that no cached result keeps a removed
// item reachable. An Insert into an existing node keeps every entry: the
// next Match sees the node's new snapshot and builds the new result. No
// lock is held for work that grows with the subscriptions of one subject,
// and no result is built under a lock.
//
// A subject is cached only when it misses a second time while its first
// miss is remembered (once.go): a subject published once, as every reply of
// request/reply is, takes no entry and evicts none. Its answer is built
// from the snapshots of the nodes its walk reached, like a cached one's;
// when that is a single node (a requester's _INBOX.<id>.* subscription),
// the result kept for the node's present snapshot is returned, so a reply
// allocates nothing.
//
// # Invariants
//
//  1. The index is a set: a triple is stored at most once. Inserting it again
//     changes nothing; one Remove deletes it.
//  2. [Index.Count] is the number of stored triples.
//  3. The trie holds no empty nodes: Remove prunes every node left without
//     subscriptions and without children, so an index emptied by Remove is
//     back to its initial shape.
//  4. A cache entry is written only while the read lock is held, with nodes
//     collected under that lock hold, and an Insert that creates a node
//     clears, while it holds the write lock, every entry whose subject the
//     node's subject prefix matches. So an entry's nodes are always a
//     superset of the nodes the subject's walk reaches now (the extra ones
//     were pruned, and are empty for good). A Remove clears, under the write
//     lock, every entry whose subject its subject matches, and the result
//     kept for the node it removed from: no entry or kept result holds a
//     result or snapshot with a removed item.
//  5. A node's snapshot is replaced, under the write lock, before the Insert
//     or Remove that changes the node returns, and the index's change
//     counter is advanced after it. A memoized result is returned only
//     while it was built from every node's present snapshot (checked at
//     once while the counter has not moved). So a Match that starts after
//     an Insert or Remove has returned sees its effect.
//  6. The cache never holds more than 1024 entries; a full set evicts one of
//     its two ways.
//  7. A [Result] is never changed after it is returned; it may be shared by
//     many callers and must be treated as read-only. Match never returns nil.
//     Snapshots and the lists in them are never changed either; a Remove
//     leaves no removed item reachable from a new snapshot.
//  8. Neither the index nor its cache retains the caller's subject or queue
//     strings: what it keeps is copied, so callers may pass strings that alias
//     a reused read buffer. The one exception is [Index.InsertOwned], whose
//     caller declares its strings immutable and lets the index keep them.
package subject
