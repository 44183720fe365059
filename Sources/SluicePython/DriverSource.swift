/// The Python side of the engine, executed once when the interpreter starts. It analyses and
/// builds transformations and runs batches; Swift calls `analyze`, `build` and
/// `Transformation.run` and exchanges one string in and one out per batch, in the same record
/// format as the JavaScript driver (see `SluiceCore.ResultRecords`).
///
/// The driver is written in Python under `Driver/` (one file per job; `Driver/README.md` has the
/// map). SwiftPM embeds each file in this module at build time (`resources: [.embedInCode(...)]`
/// in Package.swift, which generates one `PackageResources.<file>_py` byte array per file), so
/// the binary needs no resource bundle at run time.
enum DriverSource {
    /// The driver's file name in its code objects and tracebacks.
    static let fileName = "<sluice>"

    /// The driver's parts, in the order they are joined: they run as one module, each after the
    /// one before it (functions refer to each other's names at call time).
    static let parts: [[UInt8]] = [
        PackageResources.prelude_py,
        PackageResources.policy_py,
        PackageResources.transformation_py,
        PackageResources.batch_py,
        PackageResources.determinism_py,
        PackageResources.json_codec_py,
        PackageResources.restrictions_py,
        PackageResources.isolation_py,
    ]

    /// The whole driver: the parts joined by two blank lines (each file ends with a line break).
    static let code = parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n\n")
}
