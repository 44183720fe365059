/// One record split from an input stream by ``ItemSplitter`` (and so by the runtime's
/// `InputReader`).
public enum InputRecord: Sendable, Equatable {
    /// An item to transform.
    case item(InputItem)
    /// A piece of the input that cannot be an item: the line where it starts and a message such as
    /// "line 7: item is larger than the 16 MB item cap" or "line 3: unterminated JSON array". It
    /// fails alone; the items around it are read as usual.
    case malformed(line: Int, message: String)
}
