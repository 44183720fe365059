#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// Whether the service can listen where it is configured to, found out before anything else
/// starts (worker processes take a while, and a port in use should not cost that wait): a socket
/// is bound there as the server will bind it (`SO_REUSEADDR`, the same event loops), then closed.
public enum ListenCheck {
    /// Why `host:port` cannot be listened on — one line naming the address and the port — or nil
    /// when it can (or when `port` is 0: the system picks a free one).
    public static func problem(host: String, port: Int) async -> String? {
        guard port != 0 else { return nil }
        do {
            // Never accepts: a client connecting in the moment the check listens (a load balancer's
            // health check racing a restart) would otherwise be accepted into a channel nobody
            // answers or closes, and wait forever; unaccepted, it is reset when the socket closes
            // and tries again.
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(ChannelOptions.autoRead, value: false)
                .childChannelInitializer { channel in channel.close() }
                .bind(host: host, port: port).get()
            try? await channel.close().get()
            return nil
        } catch let error as IOError {
            return "cannot listen on \(host):\(port): " + explanation(errno: error.errnoCode, port: port, otherwise: "\(error)")
        } catch {
            return "cannot listen on \(host):\(port): \(error)"
        }
    }

    static func explanation(errno code: Int32, port: Int, otherwise: String) -> String {
        switch code {
        case EADDRINUSE: "the address is already in use (another process listens on port \(port); stop it or choose another --port)"
        case EACCES: "permission denied (ports below 1024 need privileges; choose another --port)"
        case EADDRNOTAVAIL: "the address is not one of this machine's (choose another --host)"
        default: otherwise
        }
    }
}
