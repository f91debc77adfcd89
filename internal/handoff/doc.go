// Package handoff passes listening sockets from one natsd process to the
// next, and takes them over on the other side; it also takes over the
// sockets systemd passes by socket activation. It is the operating-system
// half of natsd's binary upgrade; the lifecycle package decides when.
//
// The upgrade protocol, between the running process (the parent) and the
// process it starts (the child), after cloudflare/tableflip's design:
//
//   - The parent starts the executable at its own path with its own
//     arguments. The child's environment carries NATSD_UPGRADE_PARENT (the
//     parent's PID) and NATSD_UPGRADE_FDNAMES (the sockets' names, colon
//     separated); fd 3 is the write end of a status pipe and fds 4, 5, …
//     are the listening sockets, in the order of the names.
//   - The parent keeps accepting on its own descriptors meanwhile: the
//     sockets are shared, so a connection waits in one kernel queue for
//     whichever process accepts it first, and none is refused.
//   - The child reads the names, uses the sockets instead of binding, and
//     writes one line on fd 3: "ready" once it serves, or "error <text>"
//     if it cannot start. A child that exits without a line failed too.
//   - On "ready" the parent closes its own descriptors (the sockets stay
//     open in the child, with their queued connections); on anything else
//     it kills the child, if need be, and reaps it.
//
// Systemd socket activation (sd_listen_fds(3)): LISTEN_PID is this
// process, LISTEN_FDS sockets start at fd 3, LISTEN_FDNAMES names them
// (FileDescriptorName= in the socket unit).
//
// Invariants: the descriptors passed to a child are duplicated so that
// the parent's own sockets stay in non-blocking mode (os/exec would
// otherwise switch the shared open file to blocking); every inherited
// descriptor is close-on-exec once taken over, so it reaches no later
// child by accident; the variables are removed from the environment as
// they are read, as sd_listen_fds(1) does. Linux only, like natsd.
package handoff
