import Foundation
import SluiceCore

/// One language's engine in a runtime, made on first use.
final class EngineSlot: @unchecked Sendable {
    // @unchecked: `made` is guarded by `lock`.
    private let registration: EngineRegistration
    private let lock = NSLock()
    private var made: (any TransformationEngine)?

    init(_ registration: EngineRegistration) {
        self.registration = registration
    }

    var engine: any TransformationEngine {
        lock.lock()
        defer { lock.unlock() }
        if let made { return made }
        let engine = registration.makeEngine()
        made = engine
        return engine
    }
}
