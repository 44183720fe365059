#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed C library call: its name and `errno`, described as `"read: Is a directory"`.
///
/// The one way Sluice turns `errno` into an error or a message: code never formats
/// `strerror(errno)` itself. Capture it right after the failing call (the default argument reads
/// `errno` at the call site), before anything else can change it.
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The C function that failed, e.g. `"open"` (or a short phrase naming the step).
    public let call: String
    /// The `errno` value.
    public let code: Int32

    public init(_ call: String, code: Int32 = errno) {
        self.call = call
        self.code = code
    }

    /// The system's text for `code`, e.g. `"No such file or directory"`.
    public var reason: String { String(cString: strerror(code)) }

    public var description: String { "\(call): \(reason)" }

    /// Runs `operation`, a C call that returns a negative value and sets `errno` on failure, again
    /// while it fails with `EINTR`; any other failure is thrown as a `SystemError` named `call`.
    @inlinable
    public static func retryingOnInterrupt<Result: SignedInteger>(
        _ call: String, _ operation: () -> Result
    ) throws(SystemError) -> Result {
        while true {
            let result = operation()
            if result >= 0 { return result }
            let code = errno
            if code != EINTR { throw SystemError(call, code: code) }
        }
    }
}
