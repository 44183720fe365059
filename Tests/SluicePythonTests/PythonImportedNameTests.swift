import SluiceCore
import SluicePython
import SluiceTestSupport
import Testing

/// `from library import name` of a name the library does not define is a compile error, as a
/// JavaScript import of a name a library does not export is.
@Suite struct PythonImportedNames {
    @Test func aMissingNameFailsTheCompileNamingTheLineAndTheClosestName() {
        let message = pythonCompileError("from hashing import sha256_hexx\n\ndef transformEvent(e, m):\n    return e\n", libraries: pythonLibraries)
        #expect(message == "ImportError: cannot import name 'sha256_hexx' from 'hashing' (transform.py, line 1: hashing.py defines no 'sha256_hexx'; did you mean 'sha256_hex'?)")
    }

    @Test func aLibrarysOwnImportIsCheckedToo() {
        let libraries = InMemoryLibraries(pythonLibraries.libraries.values.map { $0 } + [
            LibrarySource(importName: "broken", language: .python, fileName: "broken.py", code: "\n\nfrom greet import nope\n"),
        ])
        #expect(pythonCompileError("import broken\n\ndef transformEvent(e, m):\n    return e\n", libraries: libraries)
            == "ImportError: cannot import name 'nope' from 'greet' (broken.py, line 3: greet.py defines no 'nope')")
    }

    @Test func namesALibraryBindsAnywhereAtItsTopLevelAreFound() throws {
        let libraries = InMemoryLibraries([
            LibrarySource(importName: "shapes", language: .python, fileName: "shapes.py", code: """
            from json import *
            import hashlib
            try:
                import zlib as packer
            except ImportError:
                packer = None
            if True:
                SIDES = 4
            for corner in range(2):
                pass
            def define_later():
                global LATER
                LATER = 1
            define_later()
            class Square:
                pass
            """),
        ])
        let code = """
        from shapes import dumps, hashlib, packer, SIDES, corner, LATER, Square, define_later, __name__

        def transformEvent(event, metadata):
            return {"sides": SIDES, "json": dumps([1])}
        """
        #expect(try pythonLines(code, ["{}"], libraries: libraries) == [#"0 output {"sides":4,"json":"[1]"}"#])
    }

    @Test func anImportGuardedByATryOrFromAModuleWithGetattrIsLeftToRunTime() throws {
        let libraries = InMemoryLibraries([
            LibrarySource(importName: "lazy", language: .python, fileName: "lazy.py", code: "def __getattr__(name):\n    return name.upper()\n"),
            LibrarySource(importName: "plain", language: .python, fileName: "plain.py", code: "X = 1\n"),
        ])
        let code = """
        from lazy import anything
        try:
            from plain import optional
        except ImportError:
            optional = "absent"

        def transformEvent(event, metadata):
            return {"lazy": anything, "optional": optional}
        """
        #expect(try pythonLines(code, ["{}"], libraries: libraries) == [#"0 output {"lazy":"ANYTHING","optional":"absent"}"#])
    }
}
