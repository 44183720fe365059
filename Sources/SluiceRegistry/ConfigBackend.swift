import Foundation
import SluiceCore

/// A client of a rudder config backend (`CONFIG_BACKEND_URL`), for version ids the registry does
/// not hold — what rudder-transformer does (CONTRACT.md §2.1):
///
/// - `GET {CB}/transformation/getByVersionId?versionId=ID` → `{code, language, name, versionId, …}`
/// - `GET {CB}/transformationLibrary/getByVersionId?versionId=ID` → `{code, name, versionId}`,
///   imported by the camelCase of its name (`Get Finance Data` → `getFinanceData`)
/// - `GET {CB}/rudderstackTransformationLibraries/<name>?version=v<N>` for RudderStack's built-in
///   libraries imported as `@rs/<name>/v<N>`, keyed by the record's `importName`.
///
/// Records are immutable, so every one is cached for the life of the process, and a record is
/// fetched at most once at a time (concurrent askers wait for the first). A 404 is
/// `.notFound`; a 5xx, a timeout or an unreachable backend is `.transient` (the data plane
/// retries); anything else unexpected is `.invalid`.
public final class ConfigBackend: @unchecked Sendable {
    // @unchecked: the caches are guarded by `lock`; each fetch by its key's lock.
    public enum Failure: Error, Sendable, Equatable {
        case notFound(String)
        case transient(String)
        case invalid(String)
    }

    public let baseURL: String
    public let timeout: Duration
    /// Which names a code's imports ask for (the `@rs/…` built-ins it links).
    public let languages: LanguageTable
    private let transport: Transport
    private let lock = NSLock()
    private var records: [String: [String: Any]] = [:]
    private var versions: [String: TransformationVersion] = [:]
    private var keyLocks: [String: NSLock] = [:]
    /// Requests sent to the backend so far (for tests and metrics).
    public private(set) var requestCount = 0

    /// Performs the backend's requests: `GET` with `Accept: application/json`, given the
    /// request's timeout as its remaining time; blocking. The service passes its own HTTP client
    /// (SluiceServer's `ConfigBackend.fetcherTransport()`, over SwiftNIO): Foundation's `URLSession`
    /// is not used, so no Sluice process maps libcurl and the TLS and Kerberos libraries behind it
    /// (~5 MB of every worker's resident memory).
    public typealias Transport = FetchHandler

    /// `baseURL` like `https://api.rudderstack.com` (a trailing `/` is ignored).
    public init(baseURL: String, timeout: Duration = .seconds(5), languages: LanguageTable, transport: @escaping Transport) throws {
        guard let url = URL(string: baseURL), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw LoadError("CONFIG_BACKEND_URL must be an http(s) URL, not \(baseURL)")
        }
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeout = timeout
        self.languages = languages
        self.transport = transport
    }

    /// The version rudder-server names: the transformation `versionID` linked with the libraries
    /// `libraryVersionIDs` (and any `@rs/…` built-ins its code imports).
    public func version(versionID: String, libraryVersionIDs: [String]) throws(Failure) -> TransformationVersion {
        let key = ([versionID] + libraryVersionIDs.sorted()).joined(separator: "|")
        lock.lock()
        if let cached = versions[key] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let transformation = try record("transformation/getByVersionId?versionId=" + Self.escape(versionID), what: "Transformation version \(versionID)")
        guard let code = transformation["code"] as? String else { throw .invalid("config backend: transformation \(versionID) has no code") }
        let languageName = transformation["language"] as? String ?? "javascript"
        guard let language = Language(name: languageName) else {
            throw .invalid("config backend: transformation \(versionID) has unsupported language \(languageName)")
        }
        let named = try self.libraries(versionIDs: libraryVersionIDs, language: language)
        // Every library the request names is pinned (rudder-transformer hands them all to the
        // code), and RudderStack's built-ins are linked by the registry's own transitive walk,
        // from the code and from each named library.
        let provider = ChainedLibraries([InMemoryLibraries(named), BuiltInLibraries(backend: self)])
        var libraries: [String: LibrarySource] = [:]
        for library in named { libraries[library.importName] = library }
        do {
            for root in [code] + named.map(\.code) {
                let walked = TransformationSource(name: versionID, language: language, fileName: "code.\(language.fileExtension)", code: root)
                for library in try languages.linkedLibraries(of: walked, from: provider) { libraries[library.importName] = library }
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .invalid("config backend: \(error)")
        }
        let name = transformation["name"] as? String ?? versionID
        // rudder-transformer runs JavaScript as legacy code unless `codeVersion` is the string "1"
        // (a missing value included); Python has only the current convention.
        let codeVersion = language == .javascript ? CodeVersion(rudder: transformation["codeVersion"] as? String) : .current
        let version = TransformationVersion(
            source: TransformationSource(name: name, language: language, fileName: "transform.\(language.fileExtension)", code: code,
                                         codeVersion: codeVersion),
            libraries: Array(libraries.values), description: transformation["description"] as? String,
            origin: "config backend, versionId \(versionID)")
        lock.lock()
        versions[key] = version
        lock.unlock()
        return version
    }

    /// The user libraries `versionIDs`, each imported by lodash's camelCase of its name (the test
    /// routes' `libraryVersionIDs` too).
    public func libraries(versionIDs: [String], language: Language) throws(Failure) -> [LibrarySource] {
        var libraries: [LibrarySource] = []
        for libraryID in versionIDs {
            let library = try record("transformationLibrary/getByVersionId?versionId=" + Self.escape(libraryID), what: "Library version \(libraryID)")
            guard let name = library["name"] as? String, let libraryCode = library["code"] as? String else {
                throw .invalid("config backend: library \(libraryID) lacks a name or code")
            }
            let importName = RudderProject.camelCase(name)
            libraries.append(LibrarySource(importName: importName, language: language, fileName: "\(importName).\(language.fileExtension)", code: libraryCode))
        }
        return libraries
    }

    /// RudderStack's built-in libraries, imported as `@rs/<name>/v<N>` and fetched from the
    /// backend (keyed by the record's `importName`); nil for any other import name.
    struct BuiltInLibraries: LibraryProvider {
        let backend: ConfigBackend

        func library(importName specifier: String, language: Language) throws(Failure) -> LibrarySource? {
            let parts = specifier.split(separator: "/")
            guard specifier.hasPrefix("@rs/"), parts.count == 3, parts[2].hasPrefix("v") else { return nil }
            let library = try backend.record("rudderstackTransformationLibraries/\(ConfigBackend.escape(String(parts[1])))?version=\(ConfigBackend.escape(String(parts[2])))",
                                             what: "RudderStack library \(specifier)")
            guard let code = library["code"] as? String else { throw .invalid("config backend: \(specifier) has no code") }
            return LibrarySource(importName: library["importName"] as? String ?? specifier, language: language,
                                 fileName: "\(parts[1]).\(language.fileExtension)", code: code)
        }
    }

    /// A record by its path, from the cache or fetched once.
    private func record(_ path: String, what: String) throws(Failure) -> [String: Any] {
        lock.lock()
        if let cached = records[path] {
            lock.unlock()
            return cached
        }
        let keyLock = keyLocks[path] ?? NSLock()
        keyLocks[path] = keyLock
        lock.unlock()
        keyLock.lock()
        defer { keyLock.unlock() }
        lock.lock()
        if let cached = records[path] {
            lock.unlock()
            return cached
        }
        requestCount += 1
        lock.unlock()
        let record = try fetch(path, what: what)
        lock.lock()
        records[path] = record
        keyLocks[path] = nil
        lock.unlock()
        return record
    }

    private func fetch(_ path: String, what: String) throws(Failure) -> [String: Any] {
        let milliseconds = Int(timeout.millisecondsValue)
        let answer: FetchResponse
        let request = FetchRequest(url: baseURL + "/" + path, headers: ["Accept": "application/json"])
        switch transport(request, UInt64(max(milliseconds, 1)) * 1_000_000) {
        case .success(let answered): answer = answered
        case .failure(let failure) where failure.kind == "timeout":
            throw .transient("config backend did not answer within \(milliseconds) ms fetching \(what)")
        case .failure(let failure):
            throw .transient("config backend unreachable fetching \(what): \(failure.message)")
        }
        let status = answer.status
        switch status {
        case 200..<300:
            guard let object = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any] else {
                throw .invalid("config backend answered \(what) with something that is not a JSON object")
            }
            return object
        case 404:
            throw .notFound("\(what) not found")
        case 500...:
            throw .transient("config backend answered \(status) fetching \(what)")
        default:
            throw .invalid("config backend answered \(status) fetching \(what)")
        }
    }

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=?/+#"))) ?? text
    }
}
