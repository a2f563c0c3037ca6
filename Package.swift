// swift-tools-version:6.1
// ttfa — time to first audio, WebSocket versus HTTP POST + SSE.
//
// Layout (see README.md, "Architecture"): product code in Sources/, one module per part;
// Benchmarks/ holds only benchmarks; Tests/ a test target per module with logic of its own.
//   CCurl, CCrypto, CPosix, CSndFile, CSoxr, CBuildStamp   C behind thin typed shims
//   CWebRTC, WebRTCMedia   a WebRTC peer on GStreamer's webrtcbin, loaded at run time
//   DialectSpec        dialect files: model, validation, JSON paths, templates, audio formats
//   VoiceTransport     the transports: I/O loops, wire parsers, dialects, recordings
//   ReferenceServer    Hummingbird server speaking the dialects, with faults and deployment profiles
//   LinkEmulator       user-space TCP and UDP relays playing a network
//   SpeechDetection    the energy VAD the server's server_vad and the clients share
//   TTFASupport        JSON values, formatting, host facts, version: what every part below uses
//   Storage            the results schema and the store protocol; StorageSQLite, StoragePostgres
//   Statistics         summaries, bootstrap comparisons, verdicts, profile fits
//   Checks             thresholds, baselines, regression checks
//   Monitoring         metric families (Prometheus/OpenMetrics) and the /metrics server
//   Reports            run summaries and their renderers (table, JSON, CSV, Markdown, JUnit, HTML)
//   Replay             the replay clock, one turn, a run of many, the load models, trace
//   RunSession         a validated run plan and the session that runs it
//   ttfa               the command-line tool: flags into values
//   Fuzz/              libFuzzer targets for every parser (FuzzTargets, ttfa-fuzz), corpora, tests
import PackageDescription

// Linux only: the I/O core is epoll and the tool links Debian's libcurl, OpenSSL, SQLite,
// libsndfile and libsoxr (see README.md, "Install"); Swift 6.1 or newer.
let package = Package(
    name: "ttfa",
    products: [
        .library(name: "VoiceTransport", targets: ["VoiceTransport"]),
        .library(name: "ReferenceServer", targets: ["ReferenceServer"]),
        .library(name: "LinkEmulator", targets: ["LinkEmulator"]),
        .executable(name: "ttfa", targets: ["ttfa"]),
        .executable(name: "ttfa-accuracy", targets: ["AccuracyBenchmark"]),
        .executable(name: "ttfa-fuzz", targets: ["TTFAFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // OTLP over HTTP only: the gRPC exporter's dependencies would double the build.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // Tests only: property-based tests of the parsers and the statistics.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(name: "CPosix"),
        // The commit and build date, stamped into a built binary by scripts/stamp-build.py.
        .target(name: "CBuildStamp"),
        .systemLibrary(
            name: "CSndFile",
            pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"])]
        ),
        .systemLibrary(
            name: "CSoxr",
            pkgConfig: "soxr",
            providers: [.apt(["libsoxr-dev"])]
        ),
        // WebRTC on GStreamer's webrtcbin and libopus, reached through dlopen at run time (the
        // headers are needed to build; the libraries only where the webrtc transport runs).
        .target(
            name: "CWebRTC",
            cSettings: [
                .unsafeFlags([
                    "-I/usr/include/gstreamer-1.0", "-I/usr/include/glib-2.0",
                    "-I/usr/lib/x86_64-linux-gnu/glib-2.0/include", "-I/usr/lib/aarch64-linux-gnu/glib-2.0/include",
                ])
            ],
            linkerSettings: [.linkedLibrary("dl")]
        ),
        .target(name: "WebRTCMedia", dependencies: ["CWebRTC"]),
        .target(name: "SpeechDetection"),
        .target(
            name: "DialectSpec",
            dependencies: [.product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "SeededRandom"),
        .target(
            name: "VoiceTransport",
            dependencies: [
                "DialectSpec",
                "SpeechDetection",
                "CCurl",
                "CCrypto",
                "CPosix",
                "CSndFile",
                "CSoxr",
                "WebRTCMedia",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ReferenceServer",
            dependencies: [
                "DialectSpec",
                "SpeechDetection",
                "SeededRandom",
                "WebRTCMedia",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(
            name: "LinkEmulator",
            dependencies: [
                "SeededRandom",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "TTFASupport",
            dependencies: ["VoiceTransport", "CBuildStamp", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "Storage",
            dependencies: ["TTFASupport", "VoiceTransport"]
        ),
        .target(
            name: "StorageSQLite",
            dependencies: ["Storage", "TTFASupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "StoragePostgres",
            dependencies: [
                "Storage", "TTFASupport", "VoiceTransport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "Statistics",
            dependencies: ["Storage", "TTFASupport", "SeededRandom", "ReferenceServer"]
        ),
        .target(
            name: "Checks",
            dependencies: ["Statistics", "Storage", "TTFASupport", "VoiceTransport"]
        ),
        .target(
            name: "Reports",
            dependencies: ["Checks", "Statistics", "Storage", "TTFASupport", "VoiceTransport", "Monitoring"]
        ),
        .target(
            name: "Replay",
            dependencies: [
                "VoiceTransport", "ReferenceServer", "LinkEmulator", "SpeechDetection", "SeededRandom", "DialectSpec",
                "Storage", "TTFASupport",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources/recordings"), .copy("Resources/dialects")]
        ),
        .target(
            name: "Monitoring",
            dependencies: [
                "Storage", "Statistics", "TTFASupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "RunSession",
            dependencies: [
                "Replay", "Reports", "Checks", "Statistics", "Storage", "StorageSQLite", "StoragePostgres",
                "Monitoring",
                "SeededRandom",
                "TTFASupport",
                "VoiceTransport", "ReferenceServer", "LinkEmulator", "SpeechDetection", "DialectSpec",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ttfa",
            dependencies: [
                "RunSession", "Replay", "Reports", "Checks", "Statistics", "Storage", "StorageSQLite", "Monitoring",
                "StoragePostgres",
                "TTFASupport", "VoiceTransport", "CPosix", "ReferenceServer", "LinkEmulator", "SpeechDetection",
                "SeededRandom",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "AccuracyBenchmark",
            dependencies: [
                "TestSupport", "Replay", "TTFASupport", "VoiceTransport", "LinkEmulator", "DialectSpec",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/Accuracy",
            exclude: ["README.md"]
        ),
        // The fuzz targets (Fuzz/README.md): what ttfa parses from strangers, driven by any bytes.
        // Built with libFuzzer by `make fuzz`; replayed by FuzzCorpusTests in the normal suite.
        .target(
            name: "FuzzTargets",
            dependencies: ["VoiceTransport", "DialectSpec", "TTFASupport", "Checks"],
            path: "Fuzz/Targets"
        ),
        .executableTarget(name: "TTFAFuzz", dependencies: ["FuzzTargets"], path: "Fuzz/Driver"),
        // Helpers of the tests and the accuracy benchmark: processes, scratch folders, sockets,
        // the in-process reference server.
        .target(
            name: "TestSupport",
            dependencies: [
                "VoiceTransport", "ReferenceServer", "Replay", "Storage", "StorageSQLite", "RunSession", "TTFASupport",
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "VoiceTransportTests",
            dependencies: [
                "VoiceTransport", .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "NIOWebSocket", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "TestSupport", "VoiceTransport", "ReferenceServer", "LinkEmulator", "Replay", "Reports", "Checks",
                "Statistics", "Storage",
                "StorageSQLite", "StoragePostgres", "RunSession", "TTFASupport", "ttfa", "CSndFile", "SpeechDetection",
                "Monitoring",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // What must measure time: run alone, after the parallel suite (make test-timing), each
        // figure judged against a baseline measured in the same run.
        .testTarget(
            name: "TimingTests",
            dependencies: ["TestSupport", "AccuracyBenchmark", "Replay", "StorageSQLite", "VoiceTransport", "ttfa"]
        ),
        // The release archive (make dist) unpacked as a user would, and the CI recipes run with
        // it: make test-dist.
        .testTarget(
            name: "DistTests",
            dependencies: ["TestSupport"]
        ),
        // A unit-test target per module with logic of its own.
        .testTarget(name: "TTFASupportTests", dependencies: ["TTFASupport"]),
        .testTarget(
            name: "StorageTests",
            dependencies: [
                "TestSupport", "Storage", "StorageSQLite", "TTFASupport", .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "StatisticsTests",
            dependencies: [
                "TestSupport", "Statistics", "Storage", "SeededRandom", "ReferenceServer",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(
            name: "ChecksTests",
            dependencies: ["TestSupport", "Checks", "Reports", "Statistics", "Storage", "StorageSQLite"]),
        .testTarget(
            name: "ReportsTests",
            dependencies: [
                "TestSupport", "Reports", "Checks", "Statistics", "Storage", "StorageSQLite", "TTFASupport",
                "Monitoring", .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(
            name: "ReplayTests",
            dependencies: ["TestSupport", "Replay", "Storage", "TTFASupport", "VoiceTransport", "SpeechDetection"]),
        .testTarget(name: "SpeechDetectionTests", dependencies: ["SpeechDetection"]),
        .testTarget(name: "DialectSpecTests", dependencies: ["DialectSpec"]),
        .testTarget(name: "ReferenceServerTests", dependencies: ["ReferenceServer"]),
        .testTarget(name: "LinkEmulatorTests", dependencies: ["LinkEmulator"]),
        .testTarget(name: "MonitoringTests", dependencies: ["TestSupport", "Monitoring", "Storage"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets"], path: "Fuzz/Tests"),
    ],
    swiftLanguageModes: [.v6]
)
