import SluiceCore
import SluicePython
import SluiceTestSupport
import Testing

/// What user code may not reach. The refused forms themselves are engine cases
/// (Tests/Cases/restrictions); what a case folder cannot say stays here.
@Suite struct PythonRestrictions {
    /// A case's code is always `transform.py`; the engine's own file name is refused.
    @Test func aUserFileCannotPassForTheEngine() {
        #expect(pythonCompileError("def transformEvent(e, m):\n    return e\n", fileName: "<sluice>")?.contains("engine's own file name") == true)
    }
}
