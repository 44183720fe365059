#if canImport(Glibc)
import Glibc
#endif
import CSeccomp
import SluiceCore

/// One `sluice worker` child: its pid and the server's end of its channel.
///
/// Started with `posix_spawn` in a clean environment (only `LANG` and malloc tunables), stdin and stdout on
/// `/dev/null`, stderr shared with the server (the worker's start-up report and fatal messages),
/// and the channel as descriptor 3; every other descriptor is closed in the child before `exec`.
public final class WorkerProcess: @unchecked Sendable {
    // @unchecked: owned by one pool slot at a time, under the pool's lock.
    public let pid: pid_t
    public let channel: FrameChannel
    /// When it was started (CLOCK_MONOTONIC nanoseconds).
    public let startedAt: UInt64
    /// Whether the child started with only descriptors 0–3 (reported as `no_inherited_fds`).
    public let inheritedDescriptorsClosed: Bool
    private var reaped = false

    private init(pid: pid_t, channel: FrameChannel, inheritedDescriptorsClosed: Bool) {
        self.pid = pid
        self.channel = channel
        self.inheritedDescriptorsClosed = inheritedDescriptorsClosed
        startedAt = monotonicNanoseconds()
    }

    /// Starts `executable` with `arguments` (argv[0] is the executable).
    public static func spawn(executable: String, arguments: [String]) throws(FrameChannel.Failure) -> WorkerProcess {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .system(SystemError("socketpair").description)
        }
        let serverEnd = pair[0]
        var workerEnd = pair[1]
        // dup2 onto the same number would keep close-on-exec set: keep the worker's end off 3.
        if workerEnd == Confinement.channelDescriptor {
            let moved = fcntl(workerEnd, F_DUPFD_CLOEXEC, 10)
            _ = close(workerEnd)
            workerEnd = moved
        }
        defer { _ = close(workerEnd) }
        // Large batches cross in few system calls.
        var size: Int32 = 1 << 20
        for descriptor in [serverEnd, workerEnd] {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        _ = fcntl(serverEnd, F_SETFL, fcntl(serverEnd, F_GETFL) | O_NONBLOCK)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, workerEnd, Confinement.channelDescriptor)
        // Nothing else the server has open (listening sockets, connections, the store) reaches
        // the worker, close-on-exec or not. Measured why the worker must not do this itself: its
        // async runtime may already have opened an epoll descriptor, and closing that left a
        // libdispatch thread spinning on EINVAL (a whole core, in about one worker start in ten).
        let closesInherited = sluice_spawn_close_from(&actions, Confinement.channelDescriptor + 1) == 0

        func copies(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
            strings.map { string in string.withCString { strdup($0) } } + [nil]
        }
        let argv = copies([executable] + arguments)
        // Batches allocate and free the same few hundred kilobytes over and over: keep freed memory
        // in the heap instead of returning it to the kernel and faulting it back in (measured:
        // ~9% of a worker's time in page faults with glibc's defaults).
        let environment = copies(["LANG=C.UTF-8",
                                  "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456"])
        defer {
            for pointer in argv { free(pointer) }
            for pointer in environment { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environment)
        guard status == 0 else {
            _ = close(serverEnd)
            throw .system(SystemError("could not start \(executable)", code: status).description)
        }
        return WorkerProcess(pid: pid, channel: FrameChannel(descriptor: serverEnd), inheritedDescriptorsClosed: closesInherited)
    }

    /// Ends the worker at once (SIGKILL) and reaps it.
    public func kill() {
        guard !reaped else { return }
        _ = Glibc.kill(pid, SIGKILL)
        _ = reap()
    }

    /// Asks the worker to leave (its channel closes; it exits when it sees that), waiting up to
    /// `grace` nanoseconds before killing it.
    public func stop(grace: UInt64 = 1_000_000_000) {
        guard !reaped else { return }
        channel.close()
        let deadline = monotonicNanoseconds() + grace
        while monotonicNanoseconds() < deadline {
            if reapIfExited() != nil { return }
            usleep(5_000)
        }
        kill()
    }

    /// Waits for the worker to end and describes how it ended (`exit status 70`, `signal 9`).
    @discardableResult
    public func reap() -> String {
        guard !reaped else { return "already reaped" }
        var status: Int32 = 0
        _ = try? SystemError.retryingOnInterrupt("waitpid") { waitpid(pid, &status, 0) }
        reaped = true
        channel.close()
        return Self.describe(status)
    }

    /// How the worker ended, if it has; nil while it runs.
    public func reapIfExited() -> String? {
        guard !reaped else { return "already reaped" }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        reaped = true
        channel.close()
        return Self.describe(status)
    }

    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        if signal == 0 { return "exit status \((status >> 8) & 0xFF)" }
        let names: [Int32: String] = [SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGSYS: "SIGSYS",
                                      SIGTERM: "SIGTERM", SIGILL: "SIGILL", SIGFPE: "SIGFPE"]
        return "signal \(signal)" + (names[signal].map { " (\($0))" } ?? "")
    }
}
