@testable import SluiceJavaScript
import Testing

@Suite struct ModuleRewriterTests {
    func rewrite(_ source: String) throws -> ModuleRewriter {
        try ModuleRewriter(source: source)
    }

    @Test func keepsEveryLineAndColumn() throws {
        let source = """
        import { a, b as c } from "lib";
        import * as ns from 'other';
        export const x = a + c;   const y = 2;
        export default function main() { return x; }
        export { y as why };
        """
        let result = try rewrite(source)
        let original = source.split(separator: "\n", omittingEmptySubsequences: false)
        let rewritten = result.body.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(rewritten.count == original.count)
        for (before, after) in zip(original, rewritten) { #expect(before.count == after.count) }
        #expect(rewritten[2] == "       const x = a + c;   const y = 2;")
        #expect(rewritten[3] == "               function main() { return x; }")
        #expect(rewritten[0].allSatisfy { $0 == " " })
    }

    @Test func recordsImports() throws {
        let result = try rewrite("import d, { a, b as c } from \"lib\";\nimport * as ns from 'x';\nimport 'side';\nimport { \"odd\" as o } from 'x';")
        #expect(result.imports == [
            .init(specifier: "lib", bindings: [.init(name: "default", local: "d"), .init(name: "a", local: "a"), .init(name: "b", local: "c")], line: 1),
            .init(specifier: "x", bindings: [.init(name: "*", local: "ns")], line: 2),
            .init(specifier: "side", bindings: [], line: 3),
            .init(specifier: "x", bindings: [.init(name: "odd", local: "o")], line: 4),
        ])
        #expect(result.requestedModules == ["lib", "x", "side"])
    }

    @Test func recordsExports() throws {
        let result = try rewrite("""
        export const a = 1, { b, c: [d] } = {}, [e, ...f] = [];
        export function g() {}
        export async function h() {}
        export class K {}
        export { a as alias, g as default };
        export * from "lib";
        export * as ns from "lib";
        export { x as y } from "lib";
        """)
        #expect(result.exports.map(\.name) == ["a", "b", "d", "e", "f", "g", "h", "K", "alias", "default", "ns", "y"])
        #expect(result.exports.first { $0.name == "ns" }?.target == .namespace(specifier: "lib"))
        #expect(result.exports.first { $0.name == "y" }?.target == .reexport(specifier: "lib", name: "x"))
        #expect(result.starExports == ["lib"])
    }

    @Test func exportDefaultExpressionBecomesAnAssignmentOfTheSameWidth() throws {
        let result = try rewrite("export default { a: 1 };")
        #expect(result.body == "       $__def= { a: 1 };")
        #expect(result.declaresDefaultBinding)
    }

    @Test func ignoresImportAndExportThatAreNotDeclarations() throws {
        let source = #"""
        const s = "import x from 'y'"; // export const z = 1
        const t = `export ${ "import" } ${ `nested ${'}'}` }`; /* import q from "r" */
        const r = /export\s+default/; const o = { import: 1, export: 2 }; o.import;
        """#
        let result = try rewrite(source)
        #expect(result.imports.isEmpty && result.exports.isEmpty)
        #expect(result.body == source)
    }

    @Test func errorsNameLineAndColumn() {
        #expect(throws: ModuleRewriter.RewriteError(line: 2, column: 11, message: "dynamic import() is not supported: import libraries with a static `import … from \"name\"` declaration")) {
            try rewrite("const a = 1;\nconst m = import(\"x\");")
        }
        #expect(throws: ModuleRewriter.RewriteError(line: 1, column: 1, message: "import.meta is not supported")) {
            try rewrite("import.meta.url")
        }
        #expect(throws: ModuleRewriter.RewriteError(line: 2, column: 10, message: "duplicate export of 'a'")) {
            try rewrite("export const a = 1;\nexport { a };")
        }
    }
}

@Suite struct TextBridgeTests {
    @Test func transcodesValidUTF8AndRejectsInvalid() {
        var text: [UInt16] = []
        #expect(InputText.transcode(Array("aé日🎉".utf8), to: &text))
        #expect(text == Array("aé日🎉".utf16))
        for invalid: [UInt8] in [[0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xFF]] {
            var output: [UInt16] = [1, 2]
            #expect(!InputText.transcode(invalid, to: &output))
            #expect(output == [1, 2])
        }
    }

    @Test func convertsUTF16BackToUTF8() {
        let units = Array("aé日🎉".utf16) + [0xD800]
        var buffer: [UInt8] = []
        let count = units.withUnsafeBufferPointer { OutputText.transcode($0, into: &buffer) }
        #expect(String(decoding: buffer[0..<count], as: UTF8.self) == "aé日🎉\u{FFFD}")
    }
}
