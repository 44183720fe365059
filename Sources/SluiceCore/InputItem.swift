/// One item of an input stream: its raw JSON bytes and the 1-based line where it starts.
public struct InputItem: Sendable, Equatable {
    /// The item's bytes exactly as they appear in the input (not validated).
    public var json: JSONText
    /// The 1-based physical line of the item's first byte.
    public var line: Int

    public init(json: JSONText, line: Int) {
        self.json = json
        self.line = line
    }
}
