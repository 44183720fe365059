extension OutcomeTally: Codable {
    /// Encoded flat, by outcome name: `{"events": 3, "output": 1, "dropped": 1, "exception": 1}`
    /// (every key present for `events`, `output`, `dropped`; a kind only when it occurred).
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            let count = try container.decode(Int.self, forKey: key)
            switch key.stringValue {
            case "events": events = count
            case "output": outputs = count
            case "dropped": dropped = count
            default: add(.named(key.stringValue), count: count)
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(events, forKey: Key("events"))
        for (name, count) in countsByName { try container.encode(count, forKey: Key(name)) }
    }
}
