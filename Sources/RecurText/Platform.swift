// What differs between the C libraries the readers run on (Glibc on Linux, Darwin on macOS), decided here once for
// the number scanner and the `recur` CLI's binary reader (docs/architecture.md, "macOS and other platforms").

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whether a `read` of `fd` would wait for input now: the readers flush their answers before such a read, so
/// interactive use sees each answer at once while piped input runs at full speed (a zero-timeout `poll`).
///
/// Darwin's poll(2) does not support devices (its manual, BUGS): on a terminal it answers POLLNVAL at once instead of
/// "nothing yet", which would never flush an interactive session. There POLLNVAL counts as "would wait" (a device
/// on stdin is a terminal or the like, read interactively or at its own pace).
public func inputWouldBlock(_ fd: Int32) -> Bool {
  var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
  #if canImport(Darwin)
    let ready = poll(&poller, 1, 0)
    return ready == 0 || (ready > 0 && poller.revents & Int16(POLLNVAL) != 0)
  #else
    return poll(&poller, 1, 0) == 0
  #endif
}
