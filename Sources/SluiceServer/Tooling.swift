import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox

/// rudder-transformer's test and tooling endpoints (CONTRACT.md §2.2), independent of the HTTP
/// library: what the control plane calls while a user edits a transformation. Code arrives inline,
/// is compiled for the one request (never cached) and runs under the service's limits; libraries
/// are imported by name from the service's libraries folder. The code runs on the service's
/// executor: with worker processes (the default), in a worker, never in the server.
public struct ToolingHandler: Sendable {
    /// Where user code runs (in a worker process with the service's default isolation).
    public let executor: any BatchExecutor
    public let libraries: any LibraryProvider
    public let limits: Limits
    /// What each language's imports are (to pin a request's libraries) and its library probe.
    public let languages: LanguageTable
    /// Performs fetches of code running in this process (worker processes use the pool's).
    public var fetch: FetchHandler?
    public var fetchCallsPerInvocation = FetchLimits().callsPerInvocation
    /// Fetches library versions by id (the config backend), for the test routes'
    /// `libraryVersionIDs`; nil: those ids are ignored and imports use the libraries folder.
    public var libraryVersions: (@Sendable ([String], Language) throws -> [LibrarySource])?

    public init(executor: any BatchExecutor, libraries: any LibraryProvider, limits: Limits = .defaults, languages: LanguageTable = Engines.languages) {
        self.executor = executor
        self.languages = languages
        self.libraries = libraries
        self.limits = limits
    }

    /// Links `source` with `libraries` and runs `batch` through it as a program for this request
    /// only (compiled, never cached).
    func execute(_ source: TransformationSource, libraries: any LibraryProvider, batch: Batch) -> Execution {
        var batch = batch
        batch.fetch = fetch
        batch.fetchCallsPerInvocation = fetchCallsPerInvocation
        let version: TransformationVersion
        do {
            version = try TransformationVersion.linking(source, from: libraries, languages: languages, origin: "tooling")
        } catch {
            return .failed(Failure(.compile, "\(error)"))
        }
        return executor.run(Program(version, ephemeral: true), batch: batch, limits: limits)
    }

    /// `POST /transformation/test`: `{"events": [{"message", "metadata"?}], "trRevCode": {"code",
    /// "language", "name"?}, "libraryVersionIDs": [...]}` → 200 `{"transformedEvents": [output |
    /// {"error"}], "logs": ["Log: …"]}` (dropped events have no entry), or 400 `{"error"}` when
    /// the request is malformed or the code does not compile.
    public func testTransformation(body: [UInt8]) -> WireResponse {
        let request: [String: Any]
        do { request = try Self.object(body) } catch { return .error(400, "\(error)") }
        guard let events = request["events"] as? [Any], !events.isEmpty else {
            return .error(400, "Invalid request. Missing events")
        }
        guard let revision = request["trRevCode"] as? [String: Any], let code = revision["code"] as? String,
              !code.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return .error(400, "Invalid request. Missing code")
        }
        let languageName = revision["language"] as? String ?? "javascript"
        guard let language = Language(name: languageName) else {
            return .error(400, "Unsupported language \(languageName) (use javascript, python or pythonfaas)")
        }
        var items: [JSONText] = []
        for (index, event) in events.enumerated() {
            guard let envelope = event as? [String: Any], let message = envelope["message"] as? [String: Any] else {
                return .error(400, "Invalid request. events[\(index)] must be an object with a \"message\" object")
            }
            let wrapped: [String: Any] = ["message": message, "metadata": envelope["metadata"] as? [String: Any] ?? [:]]
            guard let data = try? JSONSerialization.data(withJSONObject: wrapped, options: [.withoutEscapingSlashes]) else {
                return .error(400, "Invalid request. events[\(index)] cannot be serialised")
            }
            items.append(Array(data))
        }
        let name = (revision["name"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "transformation"
        // rudder-transformer's rule for JavaScript: any codeVersion but "1" is legacy code. A missing
        // one (which rudder-transformer refuses) is taken as "1".
        let codeVersion = language == .javascript && revision["codeVersion"] != nil
            ? CodeVersion(rudder: revision["codeVersion"] as? String) : .current
        let source = TransformationSource(name: name, language: language, fileName: "transform.\(language.fileExtension)", code: code,
                                          codeVersion: codeVersion)
        let libraries: any LibraryProvider
        switch withLibraryVersions(request["libraryVersionIDs"] as? [String] ?? [], language: language) {
        case .success(let found): libraries = found
        case .failure(let failure): return failure.response
        }
        let result: BatchResult
        switch execute(source, libraries: libraries, batch: Batch(items: items)) {
        case .ran(let ran): result = ran
        case .failed(let failure): return .error(failure.kind.responseStatus, failure.message)
        }
        return Self.testResponse(result, metadata: nil)
    }

    /// The test routes' answer: `{"transformedEvents": [...], "logs": ["Log: …"]}`. Without
    /// `metadata` (`/transformation/test`) an element is the output or `{"error"}`; with it
    /// (`/transformation/testRun`) `{"transformedEvent", "metadata"}` or `{"error", "metadata"}`,
    /// the input's metadata as sent. Dropped events have no element, and a whole transformBatch
    /// call that failed is one element, as rudder-transformer answers.
    static func testResponse(_ result: BatchResult, metadata: [JSONText]?) -> WireResponse {
        var body = Array(#"{"transformedEvents":["#.utf8)
        var first = true
        var batchFailureSent = false
        for eventResult in result.results {
            switch eventResult.outcome {
            case .dropped:
                continue
            case .failed(let failure) where failure.coversBatch && batchFailureSent:
                continue
            case .output(let json):
                if !first { body.append(UInt8(ascii: ",")) }
                if metadata == nil {
                    body += json
                    first = false
                    continue
                }
                body += #"{"transformedEvent":"#.utf8
                body += json
            case .failed(let failure):
                batchFailureSent = batchFailureSent || failure.coversBatch
                if !first { body.append(UInt8(ascii: ",")) }
                body += #"{"error":"#.utf8
                JSONString.append(failure.message, to: &body)
            }
            if let metadata {
                body += #","metadata":"#.utf8
                body += eventResult.inputIndex.map { metadata[$0] } ?? Array("{}".utf8)
            }
            body.append(UInt8(ascii: "}"))
            first = false
        }
        body += #"],"logs":["#.utf8
        for (index, line) in result.logs.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            JSONString.append("Log: " + line.text, to: &body)
        }
        body += "]}".utf8
        return WireResponse(status: 200, body: body)
    }

    /// `POST /transformation/testRun` (rudder-transformer's newer test route): `{"input":
    /// [{"message", "metadata"?}], "codeRevision": {"code", "language", "codeVersion"?,
    /// "versionId"?}, "dependencies": {"libraries": [{"versionId"}], "credentials": [{"key",
    /// "value"}]}}` (older clients send `code`, `language` and `codeVersion` at the top level) →
    /// 200 `{"transformedEvents": [{"transformedEvent", "metadata"} | {"error", "metadata"}],
    /// "logs": [...]}`: each element keeps its input's metadata exactly as sent, with no
    /// `statusCode` (dropped events have no element); 400 `{"error"}` for a malformed request or
    /// code that does not compile.
    public func testRun(body: [UInt8]) -> WireResponse {
        let request: [String: Any]
        do { request = try Self.object(body) } catch { return .error(400, "\(error)") }
        guard let input = request["input"] as? [Any], !input.isEmpty else {
            return .error(400, "Error: Invalid request. Missing events")
        }
        let revision = request["codeRevision"] as? [String: Any] ?? request
        guard let code = revision["code"] as? String, !code.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
              let languageName = revision["language"] as? String else {
            return .error(400, "Error: Invalid Request. Missing parameters in transformation code block")
        }
        guard let language = Language(name: languageName) else {
            return .error(400, "Unsupported language \(languageName) (use javascript, python or pythonfaas)")
        }
        var items: [JSONText] = []
        var metadataTexts: [JSONText] = []
        for (index, event) in input.enumerated() {
            guard let envelope = event as? [String: Any], let message = envelope["message"] as? [String: Any] else {
                return .error(400, "Invalid request. input[\(index)] must be an object with a \"message\" object")
            }
            let metadata = envelope["metadata"] as? [String: Any] ?? [:]
            guard let data = try? JSONSerialization.data(withJSONObject: ["message": message, "metadata": metadata], options: [.withoutEscapingSlashes]),
                  let metadataData = try? JSONSerialization.data(withJSONObject: metadata, options: [.withoutEscapingSlashes]) else {
                return .error(400, "Invalid request. input[\(index)] cannot be serialised")
            }
            items.append(Array(data))
            metadataTexts.append(Array(metadataData))
        }
        var batch = Batch(items: items)
        batch.metadataTexts = metadataTexts
        let dependencies = request["dependencies"] as? [String: Any] ?? [:]
        var credentials: [String: CredentialValue] = [:]
        for credential in dependencies["credentials"] as? [[String: Any]] ?? [] {
            guard let key = credential["key"] as? String, let value = credential["value"],
                  let json = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes]) else { continue }
            credentials[key] = CredentialValue(json: String(decoding: json, as: UTF8.self))
        }
        batch.credentials = credentials
        let name = (revision["name"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "transformation"
        let source = TransformationSource(name: name, language: language, fileName: "transform.\(language.fileExtension)", code: code)
        let versionIDs = (dependencies["libraries"] as? [[String: Any]] ?? []).compactMap { $0["versionId"] as? String }
        let libraries: any LibraryProvider
        switch withLibraryVersions(versionIDs, language: language) {
        case .success(let found): libraries = found
        case .failure(let failure): return failure.response
        }
        let result: BatchResult
        switch execute(source, libraries: libraries, batch: batch) {
        case .ran(let ran): result = ran
        case .failed(let failure): return .error(failure.kind.responseStatus, failure.message)
        }
        return Self.testResponse(result, metadata: metadataTexts)
    }

    /// The libraries folder, preceded by the library versions `ids` from the config backend
    /// (when there is one); or the error answer when they cannot be had.
    func withLibraryVersions(_ ids: [String], language: Language) -> Result<any LibraryProvider, WireResponseFailure> {
        guard !ids.isEmpty, let libraryVersions else { return .success(libraries) }
        do {
            return .success(ChainedLibraries([InMemoryLibraries(try libraryVersions(ids, language)), libraries]))
        } catch {
            return .failure(WireResponseFailure(response: .error(400, "Error: \(error)")))
        }
    }

    /// `POST /transformationLibrary/test`: `{"code", "language"}` → 200 `true` when the
    /// library compiles and its top level runs, else 400 `{"error"}`.
    public func testLibrary(body: [UInt8]) -> WireResponse {
        let request: [String: Any]
        do { request = try Self.object(body) } catch { return .error(400, "\(error)") }
        guard let code = request["code"] as? String, !code.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return .error(400, "Invalid request. Missing code")
        }
        let languageName = request["language"] as? String ?? "javascript"
        guard let language = Language(name: languageName) else {
            return .error(400, "Unsupported language \(languageName) (use javascript, python or pythonfaas)")
        }
        if let problem = libraryProblem(code: code, language: language) { return .error(400, problem) }
        // rudder-transformer answers the JSON value true.
        return WireResponse(status: 200, body: Array("true".utf8))
    }

    /// Why library `code` cannot be used — it does not compile or its top level throws — or nil.
    /// The library is imported by a one-line transformation, so it compiles and its top level
    /// runs exactly as when a real transformation imports it.
    public func libraryProblem(code: String, language: Language) -> String? {
        let importName = "library_under_test"
        let library = LibrarySource(importName: importName, language: language, fileName: "library.\(language.fileExtension)", code: code)
        guard let support = languages[language] else { return "no engine for \(language.rawValue) is registered" }
        let source = TransformationSource(name: "library-test", language: language, fileName: "probe.\(language.fileExtension)",
                                          code: support.echoTransformation(importing: importName))
        let result: BatchResult
        switch execute(source, libraries: ChainedLibraries([InMemoryLibraries([library]), libraries]),
                       batch: Batch(items: [Array(#"{"message":{},"metadata":{}}"#.utf8)])) {
        case .ran(let ran): result = ran
        case .failed(let failure): return failure.message
        }
        for eventResult in result.results {
            if case .failed(let failure) = eventResult.outcome { return failure.message }
        }
        return nil
    }

    /// Why transformation `code` does not compile (with this handler's libraries), or nil.
    public func compileProblem(code: String, language: Language) -> String? {
        let source = TransformationSource(name: "check", language: language, fileName: "transform.\(language.fileExtension)", code: code)
        switch execute(source, libraries: libraries, batch: Batch(items: [])) {
        case .ran: return nil
        case .failed(let failure): return failure.message
        }
    }

    /// `POST /extractLibs`: `{"code", "language"}` → `{"<module>": ["<imported names>"]}`: each
    /// module the language's own import analysis finds (``LanguageSupport/imports(in:)``), in
    /// order of first import, with the names of its statements (a later statement adds the names
    /// not listed yet).
    public static func extractLibraries(body: [UInt8], languages: LanguageTable) -> WireResponse {
        let request: [String: Any]
        do { request = try object(body) } catch { return .error(400, "\(error)") }
        guard let code = request["code"] as? String, !code.isEmpty else { return .error(400, "Invalid request. Code is missing") }
        let languageName = request["language"] as? String ?? "javascript"
        guard let language = Language(name: languageName), let support = languages[language] else {
            return .error(400, "Unsupported language \(languageName) (use javascript, python or pythonfaas)")
        }
        var modules: [(module: String, names: [String])] = []
        for statement in support.imports(in: code) {
            // As rudder-transformer's parser: a module name loses every whitespace and `;`
            // (`"  module-name3"` is module-name3; a Python module has neither).
            let module = String(statement.module.unicodeScalars.filter { !$0.properties.isWhitespace && $0 != ";" }.map(Character.init))
            if let index = modules.firstIndex(where: { $0.module == module }) {
                for name in statement.names where !modules[index].names.contains(name) { modules[index].names.append(name) }
            } else {
                modules.append((module, statement.names))
            }
        }
        var body: [UInt8] = [UInt8(ascii: "{")]
        for (index, entry) in modules.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            JSONString.append(entry.module, to: &body)
            body += ":[".utf8
            for (position, name) in entry.names.enumerated() {
                if position > 0 { body.append(UInt8(ascii: ",")) }
                JSONString.append(name, to: &body)
            }
            body.append(UInt8(ascii: "]"))
        }
        body.append(UInt8(ascii: "}"))
        return WireResponse(status: 200, body: body)
    }

    /// The body as a JSON object, or an error naming the byte offset.
    static func object(_ body: [UInt8]) throws -> [String: Any] {
        try RawJSON.validate(body)
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw RawJSONError(offset: 0, reason: "the body must be a JSON object")
        }
        return object
    }
}

/// An answer that ends a request early (a `Result`'s failure).
struct WireResponseFailure: Error {
    var response: WireResponse
}
