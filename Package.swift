// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "authority",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AuthorityCore", targets: ["AuthorityCore"]),
        .library(name: "AuthorityAPI", targets: ["AuthorityAPI"]),
        // An offline verifier: a link against a JWK set and a revocation bundle (docs/edge.md).
        .library(name: "AuthorityEdge", targets: ["AuthorityEdge"]),
        .library(name: "AuthorityStore", targets: ["AuthorityStore"]),
        // Fleet mode: the same store on PostgreSQL, shared by several daemons (docs/fleet.md).
        .library(name: "AuthorityPostgres", targets: ["AuthorityPostgres"]),
        .library(name: "AuthorityServer", targets: ["AuthorityServer"]),
        .executable(name: "authorityd", targets: ["authorityd"]),
        .executable(name: "authorityctl", targets: ["authorityctl"]),
        .executable(name: "authority-vectors", targets: ["authority-vectors"]),
        .executable(name: "authority-bench", targets: ["authority-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "AuthorityCore", dependencies: ["CSodium"]),
        .target(name: "AuthorityAPI"),
        .target(name: "AuthorityEdge", dependencies: ["AuthorityCore"]),
        .target(
            name: "AuthorityStore",
            dependencies: [
                "AuthorityCore",
                "CSodium",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "AuthorityPostgres",
            dependencies: [
                "AuthorityCore",
                "AuthorityStore",
                "CSodium",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "AuthorityServer",
            dependencies: [
                "AuthorityCore",
                "AuthorityStore",
                "AuthorityPostgres",
                "AuthorityAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "authorityd",
            dependencies: [
                "AuthorityServer",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The operator's CLI: knows the wire types and talks to the daemon over its socket; reads
        // and checks revocation bundles with the edge verifier (bundle fetch, bundle verify).
        .executableTarget(
            name: "authorityctl",
            dependencies: [
                "AuthorityAPI",
                "AuthorityEdge",
                "AuthorityCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // authorityctl's own logic (arguments, output, exit statuses), without a daemon.
        .testTarget(
            name: "AuthorityctlTests",
            dependencies: [
                "authorityctl", "AuthorityAPI", "AuthorityCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Build-time tool: turns the top-level Migrations/*.sql into Swift string literals,
        // so an installed daemon never needs the source tree.
        .executableTarget(name: "authority-embed-migrations"),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["authority-embed-migrations"]
        ),
        // Regenerates Tests/Vectors/link-v1.json from fixed seeds (docs/link-format.md).
        .executableTarget(name: "authority-vectors", dependencies: ["AuthorityTesting"]),
        // Fixtures shared by the tests and tools: fixed keys, fixed clock, the vector generator.
        .target(name: "AuthorityTesting", dependencies: ["AuthorityCore", "AuthorityAPI", "AuthorityEdge", "CSodium"]),
        .testTarget(name: "AuthorityCoreTests", dependencies: ["AuthorityCore", "AuthorityTesting"]),
        .testTarget(name: "AuthorityAPITests", dependencies: ["AuthorityAPI"]),
        // The PostgreSQL store against a real cluster of its own (initdb as nobody, a Unix socket).
        .testTarget(
            name: "AuthorityPostgresTests",
            dependencies: ["AuthorityPostgres", "AuthorityStore", "AuthorityCore", "AuthorityTesting", .product(name: "Logging", package: "swift-log")]
        ),
        // The bundle's format, its vectors and the edge verifier (docs/revocation-bundle.md).
        .testTarget(name: "AuthorityEdgeTests", dependencies: ["AuthorityEdge", "AuthorityCore", "AuthorityTesting"]),
        .testTarget(
            name: "AuthorityServerTests",
            dependencies: [
                "AuthorityServer",
                "AuthorityTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Drive the real authorityd binary over a real Unix socket (built by `swift build --build-tests`).
        .testTarget(name: "EndToEndTests", dependencies: ["AuthorityTesting", "AuthorityAPI", "AuthorityEdge", "AuthorityCore"]),
        .target(name: "CEpoll"),
        // Loads a running authorityd and reports CPU per operation against raw libsodium (BENCHMARKS.md).
        .executableTarget(
            name: "authority-bench",
            dependencies: [
                "AuthorityAPI",
                "AuthorityCore",
                "AuthorityEdge",
                "AuthorityTesting",
                "CEpoll",
                "CSodium",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "AuthorityBenchTests", dependencies: ["authority-bench"]),
        // Test tool: acknowledged writes in a loop, for the kill -9 tests.
        .executableTarget(
            name: "authority-store-stress",
            dependencies: ["AuthorityStore", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "AuthorityStoreTests",
            dependencies: [
                "AuthorityStore",
                "authority-store-stress",
                "AuthorityTesting",
                "AuthorityCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
