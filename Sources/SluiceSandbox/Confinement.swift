#if canImport(Glibc)
import Glibc
#endif
import CSeccomp
import SluiceCore

/// What a worker process does to itself before it runs any user code, and the report of what
/// took effect. Each mechanism says what it blocks; where the kernel refuses one, the report says
/// so (the worker logs it at start and `/health` shows it) — a worker is never silently weaker.
public enum Confinement {
    /// Descriptors every worker keeps: stdin, stdout, stderr (the first two are /dev/null) and
    /// its channel to the server.
    public static let channelDescriptor: Int32 = 3

    /// The report of the descriptors a worker starts with: the server's spawn closes every
    /// descriptor but 0–3 in the child, before `exec` (``WorkerProcess/spawn(executable:arguments:)``),
    /// so nothing the server had open reaches user code. (Done there, not by the worker: by the
    /// time the worker's own code runs, its runtime has opened descriptors of its own.)
    public static func inheritedDescriptors(closedAtSpawn: Bool) -> Mechanism {
        closedAtSpawn
            ? Mechanism(name: "no_inherited_fds", active: true, detail: "started with stdio and the channel only: every other descriptor closed at spawn")
            : Mechanism(name: "no_inherited_fds", active: false, detail: "posix_spawn could not close inherited descriptors; only close-on-exec ones are closed")
    }

    /// Mechanisms a worker never applies, by design (their reports say why): an operator needs no
    /// warning about them at every start.
    public static let notAppliedByDesign: Set<String> = ["rlimit_as", "rlimit_nproc"]

    /// Applies the rest, in order: no-new-privs, not dumpable, rlimits, then the seccomp filter
    /// (last, since it refuses what the others need). `maximumDescriptors` caps open files.
    public static func apply(maximumDescriptors: Int = 64) -> [Mechanism] {
        var report: [Mechanism] = []
        report.append(sluice_set_no_new_privs() == 0
            ? Mechanism(name: "no_new_privs", active: true, detail: "execve can never gain privileges (setuid binaries, file capabilities)")
            : Mechanism(name: "no_new_privs", active: false, detail: SystemError("prctl refused").description))
        report.append(sluice_set_not_dumpable() == 0
            ? Mechanism(name: "not_dumpable", active: true, detail: "no core dumps; other processes of the user cannot ptrace or read its memory")
            : Mechanism(name: "not_dumpable", active: false, detail: SystemError("prctl refused").description))
        report.append(setLimit(RLIMIT_CORE_VALUE, 0, name: "rlimit_core", detail: "core files of size 0"))
        report.append(setLimit(RLIMIT_NOFILE_VALUE, UInt(maximumDescriptors), name: "rlimit_nofile",
                               detail: "at most \(maximumDescriptors) open descriptors"))
        report.append(Mechanism(
            name: "rlimit_as", active: false,
            detail: "not applied: JavaScriptCore reserves ~71 GB of address space at start and aborts under an address-space limit; memory is bounded by the per-call budget and by recycling workers past a resident-memory threshold"))
        report.append(Mechanism(
            name: "rlimit_nproc", active: false,
            detail: "not applied: it counts every thread of the user (the engines' threads included) and root ignores it; the seccomp filter refuses new processes instead"))
        report.append(installFilter())
        return report
    }

    private static func setLimit(_ resource: Int32, _ value: UInt, name: String, detail: String) -> Mechanism {
        var limit = rlimit(rlim_cur: rlim_t(value), rlim_max: rlim_t(value))
        return setrlimit(__rlimit_resource_t(UInt32(resource)), &limit) == 0
            ? Mechanism(name: name, active: true, detail: detail)
            : Mechanism(name: name, active: false, detail: SystemError("setrlimit refused").description)
    }

    /// System calls the filter refuses with EPERM: no files opened, no sockets, no processes, no
    /// debugging, mounting, namespaces, kernel modules or keyrings, no signals to other processes.
    public static let refusedSystemCalls = [
        // Files: user code never opens anything (the engines opened what they need at start).
        "open", "openat", "openat2", "creat", "open_by_handle_at", "name_to_handle_at",
        "unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir",
        "link", "linkat", "symlink", "symlinkat", "chmod", "fchmodat", "chown", "fchownat", "lchown",
        "truncate", "chdir", "fchdir", "chroot", "mknod", "mknodat", "execve", "execveat",
        // Network: no sockets of any family.
        "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
        // Processes and other processes' memory.
        "fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev", "kill", "pidfd_open",
        "pidfd_send_signal", "pidfd_getfd", "setpgid", "setsid",
        // The system.
        "mount", "umount2", "pivot_root", "swapon", "swapoff", "reboot", "sethostname", "setdomainname",
        "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "unshare", "setns",
        "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd", "io_uring_setup",
        "personality", "acct", "quotactl", "settimeofday", "clock_settime", "adjtimex",
        "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    ]

    private static func installFilter() -> Mechanism {
        guard let context = seccomp_init(sluice_seccomp_action_allow()) else {
            return Mechanism(name: "seccomp", active: false, detail: "seccomp_init failed")
        }
        defer { seccomp_release(context) }
        // Every thread of the process, not only the caller: the engines' threads were started
        // during warm-up, before the filter.
        guard seccomp_attr_set(context, SCMP_FLTATR_CTL_TSYNC, 1) == 0 else {
            return Mechanism(name: "seccomp", active: false, detail: "the kernel cannot apply a filter to every thread (TSYNC)")
        }
        let refuse = sluice_seccomp_action_errno(EPERM)
        var unknown: [String] = []
        for name in refusedSystemCalls {
            let number = seccomp_syscall_resolve_name(name)
            guard number != __NR_SCMP_ERROR else {
                unknown.append(name)
                continue
            }
            if seccomp_rule_add_array(context, refuse, number, 0, nil) != 0 { unknown.append(name) }
        }
        // clone: threads (CLONE_THREAD set) are allowed, new processes are not.
        let clone = seccomp_syscall_resolve_name("clone")
        var threadFlag = scmp_arg_cmp(arg: 0, op: SCMP_CMP_MASKED_EQ, datum_a: scmp_datum_t(CLONE_THREAD_FLAG), datum_b: 0)
        let cloneRule = seccomp_rule_add_array(context, refuse, clone, 1, &threadFlag)
        // clone3 passes its flags in memory a filter cannot read: answer ENOSYS, so the C library
        // falls back to clone (whose flags the rule above checks).
        let clone3 = seccomp_syscall_resolve_name("clone3")
        let clone3Rule = clone3 == __NR_SCMP_ERROR ? 0 : seccomp_rule_add_array(context, sluice_seccomp_action_errno(ENOSYS), clone3, 0, nil)
        guard cloneRule == 0, clone3Rule == 0 else {
            return Mechanism(name: "seccomp", active: false, detail: "could not add the clone rules")
        }
        let loaded = seccomp_load(context)
        guard loaded == 0 else {
            return Mechanism(name: "seccomp", active: false, detail: SystemError("the kernel refused the filter", code: -loaded).description)
        }
        var detail = "on every thread: refuses opening files, sockets, connect, execve, fork and clone of processes, ptrace, mount, kill and \(refusedSystemCalls.count - 20) other system calls with EPERM"
        if !unknown.isEmpty { detail += " (not on this architecture: \(unknown.joined(separator: ", ")))" }
        return Mechanism(name: "seccomp", active: true, detail: detail)
    }

    private static let RLIMIT_CORE_VALUE = Int32(RLIMIT_CORE.rawValue)
    private static let RLIMIT_NOFILE_VALUE = Int32(RLIMIT_NOFILE.rawValue)
    private static let CLONE_THREAD_FLAG: UInt64 = 0x0001_0000
}

/// Ends a worker process the moment its server is gone: a thread of its own (which user code
/// cannot block: it holds no engine lock and needs no CPU but a wake-up) waits for the channel's
/// peer to close — the server exiting, crashing or being killed closes it, as does the server
/// stopping this worker — and then ends the process, even while user code spins on the engine
/// thread. No worker outlives its server.
public enum ServerWatch {
    /// Starts the watch on `descriptor` (the channel); returns the mechanism's report.
    public static func start(descriptor: Int32 = Confinement.channelDescriptor) -> Mechanism {
        startThread {
            // POLLRDHUP (0x2000): the peer closed its end; POLLHUP and POLLERR come unasked.
            var entry = pollfd(fd: descriptor, events: 0x2000, revents: 0)
            while true {
                let ready = poll(&entry, 1, -1)
                if ready < 0 && errno == EINTR { continue }
                if ready < 0 || entry.revents & (0x2000 | Int16(POLLHUP) | Int16(POLLERR) | Int16(POLLNVAL)) != 0 { _exit(0) }
            }
        }
        return Mechanism(name: "dies_with_server", active: true,
                         detail: "a watch thread ends the worker as soon as its channel to the server closes (server exit, crash, kill or stop), whatever user code is doing")
    }
}
