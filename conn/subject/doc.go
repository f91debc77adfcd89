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
// Match is served from a bounded, lock-free cache for subjects seen before;
// a miss walks a token trie under a read lock and fills the cache. Insert and
// Remove take the write lock and clear only the cache entries whose subject
// the changed subscription can match.
//
// # Invariants
//
//  1. The index is a set: a triple is stored at most once. Inserting it again
//     changes nothing; one Remove deletes it.
//  2. [Index.Count] is the number of stored triples.
//  3. The trie holds no empty nodes: Remove prunes every node left without
//     subscriptions and without children, so an index emptied by Remove is
//     back to its initial shape.
//  4. A cache entry is written only while the read lock is held, and every
//     Insert or Remove clears, while it holds the write lock, each entry whose
//     subject its subscription subject matches. So an entry always equals the
//     result of walking the current trie, and a Match that starts after an
//     Insert or Remove has returned sees its effect.
//  5. The cache never holds more than 1024 entries; a full set evicts one of
//     its two ways.
//  6. A [Result] is never changed after it is returned; it may be shared by
//     many callers and must be treated as read-only. Match never returns nil.
//  7. Neither the index nor its cache retains the caller's subject or queue
//     strings: what it keeps is copied, so callers may pass strings that alias
//     a reused read buffer.
package subject
