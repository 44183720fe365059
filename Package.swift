// swift-tools-version:6.0
import PackageDescription

/// One settings array for every target (Swift 6 language mode, strict concurrency).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
    ],
    targets: [
        // Layer 0: C libraries, each behind a module map and a shim.
        .systemLibrary(
            name: "CJavaScriptCore",
            pkgConfig: "javascriptcoregtk-4.1",
            providers: [.apt(["libjavascriptcoregtk-4.1-dev"])]
        ),
        .systemLibrary(
            name: "CPython",
            pkgConfig: "python3-embed",
            providers: [.apt(["libpython3-dev"])]
        ),
        .systemLibrary(
            name: "CSeccomp",
            pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]
        ),
        // Layer 0 too: C helpers for CPython (macros, allocator hooks, the deadline), over the CPython target.
        .target(name: "CPythonSupport", dependencies: ["CPython"]),
        // Layer 1: vocabulary. No I/O, no C.
        .target(name: "SluiceCore", exclude: ["README.md"], swiftSettings: swiftSettings),
        // Layer 2: engines.
        .target(
            name: "SluiceJavaScript",
            dependencies: ["SluiceCore", "CJavaScriptCore"],
            exclude: ["README.md", "Driver/README.md"],
            // The driver, joined in DriverSource.swift: embedded in the code, no bundle at run time.
            resources: ["intrinsics", "batch_state", "allocation", "logging", "errors", "outputs", "inputs", "modules",
                        "determinism", "fetch", "protocol", "promises", "realm"].map { .embedInCode("Driver/\($0).js") },
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluicePython",
            dependencies: ["SluiceCore", "CPython", "CPythonSupport"],
            exclude: ["README.md", "Driver/README.md"],
            // The driver, joined in DriverSource.swift: embedded in the code, no bundle at run time.
            resources: ["prelude", "policy", "transformation", "batch", "determinism", "json_codec", "restrictions", "isolation"]
                .map { .embedInCode("Driver/\($0).py") },
            swiftSettings: swiftSettings
        ),
        // Layer 2: transformations and libraries on disk, content-addressed versions, version resolution.
        .target(
            name: "SluiceRegistry",
            dependencies: ["SluiceCore", .product(name: "Yams", package: "Yams")],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        // Layer 2: the sandbox: worker processes, their protocol and confinement, the egress guard.
        .target(
            name: "SluiceSandbox",
            dependencies: ["SluiceCore", "CSeccomp", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl")],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        // Layer 3: wiring (engines by language, batching, streaming input/output, recordings).
        .target(
            name: "SluiceRuntime",
            dependencies: ["SluiceCore", "SluiceRegistry", "SluiceJavaScript", "SluicePython", "SluiceSandbox"],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        // Layer 3: the API's catalog and its stores (SQLite through GRDB, PostgreSQL); only the server links it.
        .target(
            name: "SluiceStore",
            dependencies: ["SluiceCore", "SluiceRegistry", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        // Layer 5: Studio, the browser playground `sluice serve` and `sluice studio` serve: what to list, what a run
        // runs and how its results and differences are shaped, the CSRF guard; its page ships embedded in the code.
        .target(
            name: "SluiceStudio",
            dependencies: ["SluiceCore", "SluiceRegistry", "SluiceRuntime", "SluiceStore", "SluiceTesting"],
            exclude: ["README.md"],
            resources: ["index.html", "studio.css", "live.css", "studio.js", "editor.js", "highlight.js", "api.js", "dom.js", "charts.js", "rollouts.js", "recordings.js", "recordings.css"].map { .embedInCode("Assets/\($0)") },
            swiftSettings: swiftSettings
        ),
        // Layer 6: the service: request/response mapping (HTTP-library independent), routes, metrics.
        .target(
            name: "SluiceServer",
            dependencies: ["SluiceCore", "SluiceRegistry", "SluiceStore", "SluiceRuntime", "SluiceSandbox", "SluiceStudio", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdCore", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"], swiftSettings: swiftSettings),
        // Layer 4: the snapshot and replay harness (below Studio, which runs cases and diffs through it, and the service).
        .target(
            name: "SluiceTesting",
            dependencies: ["SluiceCore", "SluiceRegistry", "SluiceRuntime", "SluiceSandbox"],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        // Layer 7: the benchmarks behind `sluice bench` (the reference workload, the engine and worker measurements).
        .target(
            name: "SluiceBenchmarks",
            dependencies: ["SluiceCore", "SluiceJavaScript", "SluiceRegistry", "SluiceRuntime", "SluiceSandbox", "SluiceServer"],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        // Layer 8: the command line.
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceBenchmarks",
                "SluiceCore",
                "SluiceRegistry",
                "SluiceRuntime",
                "SluiceSandbox",
                "SluiceServer",
                "SluiceStudio",
                "SluiceTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SluiceJavaScriptTests",
            dependencies: ["SluiceJavaScript", "SluiceRuntime"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SluicePythonTests", dependencies: ["SluicePython", "SluiceTestSupport"], swiftSettings: swiftSettings),
        // Helpers shared by test targets (engine runs rendered as lines, loopback HTTP servers that need no Swift concurrency).
        .target(name: "SluiceTestSupport", dependencies: ["SluiceCore", "CTestRunnerSettings"], path: "Tests/SluiceTestSupport", swiftSettings: swiftSettings),
        // How many tests run at once in the test process (Tests/CTestRunnerSettings/runner_settings.c).
        .target(name: "CTestRunnerSettings", path: "Tests/CTestRunnerSettings"),
        .testTarget(name: "SluiceSandboxTests", dependencies: ["SluiceCore", "SluiceSandbox", "SluiceTestSupport",
                                                             .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                                                             .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "SluiceRegistryTests", dependencies: ["SluiceRegistry", "SluiceJavaScript", "SluicePython", "SluiceTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SluiceStoreTests", dependencies: ["SluiceCore", "SluiceRegistry", "SluiceStore", "SluiceRuntime", "SluiceTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SluiceRuntimeTests", dependencies: ["SluiceRegistry", "SluiceRuntime", "SluiceSandbox", "SluiceTesting", "SluiceTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SluiceServerTests", dependencies: ["SluiceRegistry", "SluiceRuntime", "SluiceServer", "SluiceStore", "SluiceStudio",
                                                            "SluiceTestSupport",
                                                            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                                                            .product(name: "HTTPTypes", package: "swift-http-types")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "SluiceTestingTests", dependencies: ["SluiceRegistry", "SluiceRuntime", "SluiceTesting", "SluiceTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "sluiceTests", dependencies: ["sluice", "SluiceCore", "SluiceSandbox", "SluiceTestSupport"], swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
