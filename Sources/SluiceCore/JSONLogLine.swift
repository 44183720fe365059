#if canImport(Glibc)
import Glibc
#endif

/// The shape of a JSON log line, shared by the service's log handler and the lines a worker
/// process writes itself: `{"time":"2026-11-21T18:31:12.345Z","level":"warning","label":"sluice","message":"…"`
/// — the caller adds its fields and the closing `}` and newline.
public enum JSONLogLine {
    /// The line up to and including `message`, without the closing brace.
    public static func opening(level: String, label: String, message: String) -> [UInt8] {
        var line: [UInt8] = Array(#"{"time":"#.utf8)
        JSONString.append(timestamp(), to: &line)
        line += #","level":"#.utf8
        JSONString.append(level, to: &line)
        line += #","label":"#.utf8
        JSONString.append(label, to: &line)
        line += #","message":"#.utf8
        JSONString.append(message, to: &line)
        return line
    }

    /// Now, in UTC with milliseconds: `2026-11-21T18:31:12.345Z`.
    public static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ count: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, count - text.count)) + text
        }
        return "\(digits(Int(parts.tm_year) + 1900, 4))-\(digits(Int(parts.tm_mon) + 1, 2))-\(digits(Int(parts.tm_mday), 2))T"
            + "\(digits(Int(parts.tm_hour), 2)):\(digits(Int(parts.tm_min), 2)):\(digits(Int(parts.tm_sec), 2)).\(digits(Int(now.tv_nsec / 1_000_000), 3))Z"
    }
}
