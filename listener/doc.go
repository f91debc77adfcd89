// Package listener owns the accept loop of a natsd server: it binds a TCP
// socket, accepts connections, hands each one to a function it is given, and
// keeps track of every goroutine it starts so a caller can wait for them.
//
// It knows nothing about the NATS protocol and imports only the standard
// library. Limits on the number of connections belong to the caller's
// handler, which can refuse a connection by closing it.
//
// # Invariants
//
//   - After [Listener.Close] has returned, the handler given to
//     [Listener.Serve] is never called again. A connection accepted while
//     Close runs is closed rather than handed over.
//   - [Listener.Serve] runs at most once at a time. When it returns, the
//     socket is closed, whatever the reason it returned.
//   - A temporary accept error (a [net.Error] that is temporary or a timeout,
//     for example EMFILE) is retried after a backoff of 10ms, doubling to at
//     most 1s; a successful accept resets it to 10ms. Every such error is
//     reported through the error-log seam with the delay about to be slept.
//     Close interrupts the sleep at once.
//   - Any other accept error ends Serve with that error, unless the listener
//     was closed, in which case Serve returns nil.
//   - Every handler goroutine and every goroutine started with [Listener.Go]
//     is counted; [Listener.Wait] returns only once Serve is not running and
//     that count is zero. The count is kept by the package itself, not by a
//     sync.WaitGroup, so Go may be called at any time, including while Wait
//     is blocked.
//   - Time enters only through the sleep seam ([WithSleep]), so backoff is
//     tested exactly.
package listener
