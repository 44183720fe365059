#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit (`RLIMIT_NOFILE`): every connection holds a descriptor, and the
/// usual soft limit (1024) is far below what a few thousand connections need, while the hard
/// limit is usually far above it.
public enum OpenFileLimit {
    /// Descriptors kept for everything but admitted connections: the listening socket, the event
    /// loops, the worker processes' channels, the store, the files read at reload, `fetch`
    /// sockets, and connections refused past the cap until they are closed (microseconds).
    public static let reservedDescriptors = 256

    /// Raises the soft limit to the hard limit (which needs no privilege) and returns the soft
    /// limit in force afterwards; nil when it cannot be read.
    public static func raiseToHardLimit() -> Int? {
        #if canImport(Glibc)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        // RLIM_INFINITY is all ones.
        return limit.rlim_cur == rlim_t.max ? Int.max : Int(clamping: limit.rlim_cur)
        #else
        return nil
        #endif
    }

    /// The connection cap a soft limit of `descriptorLimit` leaves room for: the default cap
    /// (``ServerConfiguration/maximumConnections``, 4096), or the limit less
    /// ``reservedDescriptors`` when that is fewer (at least 1).
    public static func connectionCap(descriptorLimit: Int) -> Int {
        min(ServerConfiguration().maximumConnections, max(1, descriptorLimit - reservedDescriptors))
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue))
    #endif
}
