import SluiceCore

/// The JSON line of one result, as `sluice run` prints it (without the newline), and as
/// `expected.ndjson`, recordings and `/v1` runs carry it:
///
/// - `{"output":{…},"metadata":{…}}`
/// - `{"dropped":true,"metadata":{…}}`
/// - `{"error":"…","kind":"exception","metadata":{…}}` — `kind` is the ``FailureKind`` name
///   (docs/outcomes.md lists them).
public enum ResultLine {
    /// Appends the line; `message` replaces a failure's message (to prefix a line number).
    public static func append(_ result: EventResult, message: String? = nil, to line: inout [UInt8]) {
        switch result.outcome {
        case .output(let json):
            line += #"{"output":"#.utf8
            line += json
        case .dropped:
            line += #"{"dropped":true"#.utf8
        case .failed(let failure):
            line += #"{"error":"#.utf8
            JSONString.append(message ?? failure.message, to: &line)
            line += #","kind":"#.utf8
            JSONString.append(failure.kind.name, to: &line)
        }
        line += #","metadata":"#.utf8
        line += result.metadata
        line.append(UInt8(ascii: "}"))
    }
}
