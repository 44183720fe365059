/// The JavaScript side of a compiled transformation: evaluated once per transformation context,
/// it holds the module factories and runs batches against fresh module instances.
///
/// The driver is written in JavaScript under `Driver/` (one file per job; `Driver/README.md`
/// has the map and the protocol with ``JavaScriptVM``). SwiftPM embeds each file in this module
/// at build time (`resources: [.embedInCode(...)]` in Package.swift, which generates one
/// `PackageResources.<file>_js` byte array per file), so the binary needs no resource bundle at
/// run time. The files are one function expression, in this order: the first opens it, the
/// last returns the protocol's functions and closes it.
enum DriverSource {
    /// The driver's file name in JavaScriptCore's stack traces and compile errors.
    static let fileName = "sluice:driver"

    /// The driver's parts, in the order they are joined.
    static let parts: [[UInt8]] = [
        PackageResources.intrinsics_js,
        PackageResources.batch_state_js,
        PackageResources.allocation_js,
        PackageResources.logging_js,
        PackageResources.errors_js,
        PackageResources.outputs_js,
        PackageResources.inputs_js,
        PackageResources.modules_js,
        PackageResources.determinism_js,
        PackageResources.fetch_js,
        PackageResources.protocol_js,
        PackageResources.promises_js,
        PackageResources.realm_js,
    ]

    /// The whole driver: the parts joined by a blank line (each file ends with a line break).
    static let code = parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
}
