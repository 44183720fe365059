import Testing
import SluiceCore
import SluiceJavaScript

@Test func smoke() throws {
    let engine = JavaScriptEngine()
    let source = TransformationSource(name: "t", language: .javascript, fileName: "transform.js", code: """
    export function transformEvent(event, metadata) {
      log("hello", {a: 1});
      if (event.kind === "drop") return null;
      if (event.kind === "throw") throw new TypeError("bad " + event.kind);
      if (event.kind === "loop") { while (true) {} }
      event.seen = metadata(event).sourceId ?? "none";
      return event;
    }
    """)
    let compiled = try engine.compile(source, libraries: NoLibraries())
    let items = [
        #"{"message":{"kind":"ok","messageId":"m1"},"metadata":{"sourceId":"s1","messageId":"m1"}}"#,
        #"{"kind":"drop"}"#,
        #"{"kind":"throw"}"#,
        #"not json"#,
        #"{"kind":"loop"}"#,
        #"{"kind":"ok2"}"#,
    ].map { Array($0.utf8) }
    let start = ContinuousClock.now
    let result = engine.run(compiled, batch: Batch(items: items), limits: Limits(timeMilliseconds: 200))
    print(ContinuousClock.now - start)
    for r in result.results {
        switch r.outcome {
        case .output(let o): print(r.inputIndex as Any, "OUT", String(decoding: o, as: UTF8.self), String(decoding: r.metadata, as: UTF8.self))
        case .dropped: print(r.inputIndex as Any, "DROP")
        case .failed(let f): print(r.inputIndex as Any, "FAIL", f.kind, f.message)
        }
    }
    print(result.logs)
}
