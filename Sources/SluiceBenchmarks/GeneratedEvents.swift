import Foundation
import SluiceCore

/// The events of Sluice's own benchmark workload (`Benchmarks/workload`), made here so a clone
/// or an unpacked release needs no generator script: RudderStack-style `track` (a third of them
/// `Order Completed` with line items, some `Heartbeat`s), `identify`, `page` and `screen` calls of
/// a few hundred bytes each, with e-mail addresses, null properties and padded strings for the
/// workloads to clean, and anonymous ids that repeat within a batch for `dedupe`. Deterministic:
/// the same seed gives the same events.
public struct GeneratedEvents: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// `count` `{"message", "metadata"}` envelopes, one JSON text each.
    public func envelopes(count: Int) -> [JSONText] {
        var generator = self
        return (0..<count).map { index in
            let message = generator.message(index)
            return Self.json(["message": message, "metadata": Self.metadata(message, index: index)])
        }
    }

    /// The same events as one `/customTransform` request body (each item names version `tv_bench`).
    public func customTransformBody(count: Int) -> [UInt8] {
        var generator = self
        let items: [[String: Any]] = (0..<count).map { index in
            let message = generator.message(index)
            return ["message": message, "metadata": Self.metadata(message, index: index),
                    "destination": ["Transformations": [["VersionID": "tv_bench"]]]]
        }
        return Self.json(items)
    }

    private static let trackNames = ["Order Completed", "Order Completed", "Product Viewed", "Cart Updated", "Heartbeat", "Search"]
    private static let screens = ["Home", "Catalog", "Checkout", "Account"]
    private static let locales = ["en-GB", "fr-FR", "es-MX", "ko-KR"]

    private mutating func message(_ index: Int) -> [String: Any] {
        let roll = next(100)
        let type = roll < 70 ? "track" : roll < 80 ? "identify" : roll < 95 ? "page" : "screen"
        let user = next(150)
        let timestamp = Self.timestamp(seconds: 1_796_083_200 + index * 7 + next(5), milliseconds: next(1000))
        var traits: [String: Any] = ["email": " Customer.\(user)@Example.org ", "name": "Customer \(user)"]
        traits["plan"] = next(3) == 0 ? Self.null : pick(["team", "solo"]) as Any
        if next(4) == 0 { traits["phone"] = "+44 20 7946 " + String(format: "%04d", next(10_000)) }
        var context: [String: Any] = ["ip": "198.51.100.\(1 + next(254))", "locale": pick(Self.locales),
                                      "library": ["name": "sluice-bench", "version": "1.0"]]
        context["campaign"] = ["source": pick(["newsletter", "search"]), "medium": "email", "term": Self.null] as [String: Any]
        context["traits"] = traits
        var message: [String: Any] = ["type": type, "messageId": identifier(), "anonymousId": "anon-\(user)",
                                      "timestamp": timestamp, "receivedAt": timestamp, "context": context]
        message["userId"] = next(5) == 0 ? Self.null : "user-\(user)" as Any
        switch type {
        case "track":
            let name = pick(Self.trackNames)
            message["event"] = name
            var properties: [String: Any] = ["currency": pick(["EUR", "GBP"]), "coupon": Self.null, "label": "  \(name.lowercased())  "]
            if name == "Order Completed" {
                properties["orderId"] = "order-\(index)"
                var products: [[String: Any]] = []
                for _ in 0..<(1 + next(4)) {
                    products.append(["sku": "sku-\(next(500))", "quantity": 1 + next(3), "price": Double(199 + next(9_800)) / 100,
                                     "category": Self.null])
                }
                properties["products"] = products
            }
            message["properties"] = properties
        case "identify":
            traits["createdAt"] = timestamp
            message["traits"] = traits
        default:
            let name = pick(Self.screens)
            message["name"] = name
            message["properties"] = ["title": name, "path": "/\(name.lowercased())", "referrer": Self.null] as [String: Any]
        }
        return message
    }

    /// JSON's null, as JSONSerialization writes it.
    private static var null: Any { NSNull() }

    /// One of `choices`, picked by the sequence.
    private mutating func pick(_ choices: [String]) -> String { choices[next(choices.count)] }

    private static func metadata(_ message: [String: Any], index: Int) -> [String: Any] {
        ["sourceId": "source-bench", "destinationId": "destination-bench", "workspaceId": "workspace-bench",
         "messageId": message["messageId"]!, "jobId": index + 1, "eventType": message["type"]!,
         "eventName": message["event"] ?? ""]
    }

    /// An RFC 3339 UTC timestamp with milliseconds.
    private static func timestamp(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, milliseconds)
    }

    /// A UUID-shaped id from the sequence.
    private mutating func identifier() -> String {
        let high = nextWord(), low = nextWord()
        let hex = String(format: "%016llx%016llx", high, low)
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    /// SplitMix64: the next word of the sequence.
    private mutating func nextWord() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// A number in 0..<bound.
    private mutating func next(_ bound: Int) -> Int { Int(nextWord() % UInt64(bound)) }

    private static func json(_ object: Any) -> [UInt8] {
        // The shapes above are always serialisable.
        [UInt8](try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }
}
