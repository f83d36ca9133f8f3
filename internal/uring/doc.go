// Package uring sends on many sockets with one system call, through
// Linux's io_uring: a WebSocket fan-out writes one frame to each of
// thousands of clients, and on a machine that pays for every kernel entry
// (page-table isolation, retpolines) a write(2) per client costs twice the
// send itself. A Ring queues the sends and enters the kernel once for
// them all; each send is tried at once and never waits (MSG_DONTWAIT), so
// a full socket answers EAGAIN in its result, as write(2) would.
//
// On other systems, and where the kernel refuses io_uring (an old kernel,
// a seccomp filter, kernel.io_uring_disabled), New fails and the caller
// writes as before.
package uring
