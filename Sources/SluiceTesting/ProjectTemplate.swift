import Foundation
import SluiceCore
import SluiceRegistry

/// The project `sluice init` writes: a transformation with one snapshot case whose expectation
/// is right (so `sluice test` passes in it straight away), a library the transformation imports,
/// a `.gitignore` and a CI workflow that runs `sluice test --junit`.
///
/// ```
/// transformations/<name>/transformation.json
/// transformations/<name>/transform.js                (transform.py for Python)
/// transformations/<name>/tests/sample/case.json
/// transformations/<name>/tests/sample/input.ndjson
/// transformations/<name>/tests/sample/expected.ndjson
/// libraries/normalize.js                             (normalize.py)
/// .gitignore
/// .github/workflows/sluice.yml
/// ```
///
/// Both languages' transformations do the same thing to the same sample events, so their
/// expectations are the same file.
public struct ProjectTemplate: Sendable {
    public let language: Language
    /// The transformation's name and folder name.
    public let name: String

    /// The name a project's transformation gets when none is given.
    public static let defaultName = "my-transformation"

    /// A template for `language`; `name` must be a plain folder name (letters, digits, `-`, `_`,
    /// `.`, not starting with `.`).
    public init(language: Language, name: String = ProjectTemplate.defaultName) throws {
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".": true
            default: false
            }
        }
        guard !name.isEmpty, !name.hasPrefix("."), allowed else {
            throw LoadError("\"\(name)\" cannot name a transformation: use letters, digits, '-', '_' and '.', not starting with '.'")
        }
        self.language = language
        self.name = name
    }

    /// The transformation's folder, relative to the project.
    public var transformationFolder: String { "transformations/" + name }
    /// The sample case's folder, relative to the project.
    public var sampleCase: String { transformationFolder + "/tests/sample" }

    /// Every file, relative path → contents, in the order they are listed.
    public var files: [(path: String, contents: String)] {
        let entry = "transform." + language.fileExtension
        let code = language == .javascript ? Self.javascriptTransformation : Self.pythonTransformation
        let library = language == .javascript ? Self.javascriptLibrary : Self.pythonLibrary
        return [
            (transformationFolder + "/transformation.json", manifest(entry: entry)),
            (transformationFolder + "/" + entry, code),
            (sampleCase + "/case.json", Self.caseSettings),
            (sampleCase + "/input.ndjson", Self.sampleInput),
            (sampleCase + "/expected.ndjson", Self.sampleExpected),
            ("libraries/normalize." + language.fileExtension, library),
            (".gitignore", Self.gitignore),
            (".github/workflows/sluice.yml", Self.workflow),
        ].map { (path: $0.0, contents: $0.1.replacingOccurrences(of: "{{name}}", with: name)) }
    }

    /// The template's files that already exist in `directory` (relative paths).
    public func existingFiles(in directory: String) -> [String] {
        files.map(\.path).filter { FileManager.default.fileExists(atPath: directory + "/" + $0) }
    }

    /// Writes the files into `directory` (created when missing) and returns their relative
    /// paths. Refuses, writing nothing, when any of them exists and `overwrite` is off: the error
    /// names them.
    @discardableResult
    public func write(into directory: String, overwrite: Bool = false) throws -> [String] {
        let existing = existingFiles(in: directory)
        if !existing.isEmpty && !overwrite {
            throw LoadError("\(directory): \(Wording.counted(existing.count, "file")) would be overwritten: \(existing.joined(separator: ", ")) "
                            + "(--force overwrites them; nothing was written)")
        }
        for (path, contents) in files {
            let url = URL(fileURLWithPath: directory + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
        return files.map(\.path)
    }

    /// The commands to try next, run from the project folder.
    public var nextSteps: [String] {
        [
            "sluice test",
            "sluice run \(transformationFolder) --input \(sampleCase)/input.ndjson --logs",
            "sluice test --watch",
        ]
    }

    private func manifest(entry: String) -> String {
        """
        {
          "name": "{{name}}",
          "language": "\(language.rawValue)",
          "entry": "\(entry)",
          "description": "An example to make your own: drops internal events, names track events in Title Case and normalises e-mail addresses.",
          "limits": { "timeMilliseconds": 1000, "memoryMegabytes": 64 }
        }

        """
    }

    static let javascriptTransformation = #"""
        // {{name}}: an example to make your own. It drops internal events, names track events in
        // Title Case, normalises e-mail addresses and notes where each event came from.
        // Reference: docs/transformations.md in Sluice's repository.
        import { titleCase, normalizeEmail } from "normalize"; // libraries/normalize.js

        // Called once per event; return the event (changed or not), null to drop it, or an array
        // to split it. metadata(event) is the event's metadata; log(...) lines show in tests and
        // with `sluice run --logs`.
        export function transformEvent(event, metadata) {
          if (event.properties && event.properties.internal === true) {
            log("dropped internal event", event.messageId);
            return null;
          }
          if (event.type === "track" && typeof event.event === "string") {
            event.event = titleCase(event.event);
          }
          if (event.traits && typeof event.traits.email === "string") {
            event.traits.email = normalizeEmail(event.traits.email);
          }
          event.context = { ...event.context, transformedBy: "{{name}}", sourceId: metadata(event).sourceId ?? null };
          return event;
        }

        """#

    static let pythonTransformation = #"""
        # {{name}}: an example to make your own. It drops internal events, names track events in
        # Title Case, normalises e-mail addresses and notes where each event came from.
        # Reference: docs/transformations.md in Sluice's repository.
        from normalize import title_case, normalize_email  # libraries/normalize.py


        # Called once per event; return the event (changed or not), None to drop it, or a list to
        # split it. metadata(event) is the event's metadata; log(...) lines show in tests and with
        # `sluice run --logs`.
        def transformEvent(event, metadata):
            properties = event.get("properties")
            if isinstance(properties, dict) and properties.get("internal") is True:
                log("dropped internal event", event.get("messageId"))
                return None
            if event.get("type") == "track" and isinstance(event.get("event"), str):
                event["event"] = title_case(event["event"])
            traits = event.get("traits")
            if isinstance(traits, dict) and isinstance(traits.get("email"), str):
                traits["email"] = normalize_email(traits["email"])
            context = event.get("context")
            if not isinstance(context, dict):
                context = {}
            context["transformedBy"] = "{{name}}"
            context["sourceId"] = metadata(event).get("sourceId")
            event["context"] = context
            return event

        """#

    static let javascriptLibrary = #"""
        // normalize: helpers shared by transformations. A transformation imports a library by its
        // file name: import { titleCase } from "normalize";

        /** "order_completed" → "Order Completed". */
        export function titleCase(text) {
          return text
            .replace(/_/g, " ")
            .split(/\s+/)
            .filter((word) => word !== "")
            .map((word) => word[0].toUpperCase() + word.slice(1).toLowerCase())
            .join(" ");
        }

        /** "  Ada@Example.COM " → "ada@example.com". */
        export function normalizeEmail(address) {
          return address.trim().toLowerCase();
        }

        """#

    static let pythonLibrary = #"""
        # normalize: helpers shared by transformations. A transformation imports a library by its
        # file name: from normalize import title_case


        def title_case(text):
            # "order_completed" -> "Order Completed"
            return " ".join(word[:1].upper() + word[1:].lower() for word in text.replace("_", " ").split())


        def normalize_email(address):
            # "  Ada@Example.COM " -> "ada@example.com"
            return address.strip().lower()

        """#

    static let caseSettings = """
        {
          "description": "A track event renamed, an identify with its e-mail normalised, an internal event dropped."
        }

        """

    static let sampleInput = """
        {"message":{"type":"track","messageId":"m-1","event":"order_completed","properties":{"total":42.5}},"metadata":{"sourceId":"web","messageId":"m-1"}}
        {"message":{"type":"identify","messageId":"m-2","userId":"u-1","traits":{"email":"  Ada@Example.COM "},"context":{"locale":"en-GB"}},"metadata":{"sourceId":"web","messageId":"m-2"}}
        {"message":{"type":"track","messageId":"m-3","event":"Heartbeat","properties":{"internal":true}},"metadata":{"sourceId":"web","messageId":"m-3"}}

        """

    /// The `sluice run --logs` output of ``sampleInput``, the same in both languages.
    static let sampleExpected = """
        {"output":{"type":"track","messageId":"m-1","event":"Order Completed","properties":{"total":42.5},"context":{"transformedBy":"{{name}}","sourceId":"web"}},"metadata":{"sourceId":"web","messageId":"m-1"}}
        {"output":{"type":"identify","messageId":"m-2","userId":"u-1","traits":{"email":"ada@example.com"},"context":{"locale":"en-GB","transformedBy":"{{name}}","sourceId":"web"}},"metadata":{"sourceId":"web","messageId":"m-2"}}
        {"log":"dropped internal event m-3","messageId":"m-3"}
        {"dropped":true,"metadata":{"sourceId":"web","messageId":"m-3"}}

        """

    static let gitignore = """
        # Sluice: the service's local store, and the reports `sluice test --junit/--json` write.
        .sluice/
        sluice-junit.xml
        sluice-report.json

        """

    static let workflow = """
        # Runs the transformations' snapshot cases on every push and pull request: `sluice test`
        # exits 1 when a case fails, and with CI set a missing expected.ndjson fails rather than
        # being recorded. The JUnit report is kept as an artifact.
        name: sluice
        on:
          push:
          pull_request:
        jobs:
          test:
            runs-on: ubuntu-latest
            # Sluice links Debian 12's JavaScriptCore and libpython3.11.
            container: debian:12
            steps:
              - uses: actions/checkout@v4
              - name: Install sluice
                env:
                  # Where you keep the release tarball (sluice-<version>-linux-x86_64.tar.gz, built by
                  # Sluice's scripts/package.sh): set it as the repository variable SLUICE_TARBALL_URL.
                  SLUICE_TARBALL_URL: ${{ vars.SLUICE_TARBALL_URL }}
                run: |
                  apt-get update && apt-get install -y --no-install-recommends ca-certificates curl
                  curl -fsSL "$SLUICE_TARBALL_URL" | tar -xz
                  ./sluice-*/install.sh --link /usr/local/bin
              - name: Test
                run: sluice test --junit sluice-junit.xml
              - name: Keep the JUnit report
                if: always()
                uses: actions/upload-artifact@v4
                with:
                  name: sluice-junit
                  path: sluice-junit.xml

        """
}
