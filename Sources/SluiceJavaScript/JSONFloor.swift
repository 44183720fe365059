import CJavaScriptCore
import SluiceCore

/// JavaScriptCore's own floor for a workload (issue 17): how fast one context parses and
/// serialises the same events with `JSON.parse` and `JSON.stringify`, with no bridge to Swift,
/// no user function and no limits. Sluice's per-event cost is reported as a ratio to it.
public enum JSONFloor {
    /// Events per second of `JSON.stringify(JSON.parse(line))` over `lines` in a fresh
    /// JavaScriptCore context: the median of `rounds` rounds of at least `seconds` each (after a
    /// warm-up round), or nil when the measuring script fails. Runs on the calling thread.
    public static func eventsPerSecond(_ lines: [JSONText], seconds: Double = 1, rounds: Int = 5) -> Double? {
        guard !lines.isEmpty, let context = JSGlobalContextCreate(nil) else { return nil }
        defer { JSGlobalContextRelease(context) }
        var source = "globalThis.__lines = ["
        for (index, line) in lines.enumerated() {
            if index > 0 { source += "," }
            source += JSONString.encode(String(decoding: line, as: UTF8.self))
        }
        source += #"""
        ];
        globalThis.__measure = function (minimumMs) {
            const lines = __lines, n = lines.length, parse = JSON.parse, stringify = JSON.stringify;
            let done = 0, elapsed = 0;
            const start = Date.now();
            do {
                for (let i = 0; i < n; i++) stringify(parse(lines[i]));
                done += n;
                elapsed = Date.now() - start;
            } while (elapsed < minimumMs);
            return done / (elapsed / 1000);
        };
        """#
        guard evaluate(source, in: context) != nil else { return nil }
        let call = "__measure(\(Int(seconds * 1000)))"
        guard evaluate(call, in: context) != nil else { return nil }  // warm-up
        var rates: [Double] = []
        for _ in 0..<max(1, rounds) {
            guard let value = evaluate(call, in: context) else { return nil }
            rates.append(JSValueToNumber(context, value, nil))
        }
        rates.sort()
        return rates[rates.count / 2]
    }

    private static func evaluate(_ script: String, in context: JSGlobalContextRef) -> JSValueRef? {
        var exception: JSValueRef?
        let value = withJSString(script) { JSEvaluateScript(context, $0, nil, nil, 1, &exception) }
        return exception == nil ? value : nil
    }
}
