// swift-tools-version:6.0
import PackageDescription

// The engine's and loader's hot loops touch class-held arrays tens of millions of times;
// dynamic exclusivity checks there cost more than the work. Release builds only.
let fast: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "nexus",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "nexus", targets: ["nexus"]),
        .library(name: "NexusBuild", targets: ["NexusBuild"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // For its vendored SQLite amalgamation only (see Sources/CSQLite/include/CSQLite.h).
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
    ],
    targets: [
        // SQLite itself: sqlite-nio's vendored build under its usual function names.
        .target(name: "CSQLite", dependencies: [.product(name: "SQLiteNIO", package: "sqlite-nio")]),
        // The system zlib, to gzip sync requests as the official SDK can.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Errors with locations, timestamps, nexus ids, compact string storage.
        .target(name: "NexusCore", swiftSettings: fast),
        // nexus.yml, seeds and models on disk, the template language, the model graph.
        .target(name: "NexusProject", dependencies: ["NexusCore", "Yams"]),
        // Every SQL spelling difference between warehouses.
        .target(name: "NexusSQL", dependencies: ["NexusCore"]),
        // Executing SQL, loading seeds, reading catalogs, swapping builds.
        .target(name: "NexusWarehouse", dependencies: ["NexusCore", "NexusSQL", "CSQLite", "CZlib"], swiftSettings: fast),
        // The nexus steps: identity resolution, traits, entities, participants, relationships.
        .target(name: "NexusEngine", dependencies: ["NexusCore", "NexusSQL", "NexusWarehouse"], swiftSettings: fast),
        // Customer.io shapes: the macros that turn nexus tables into Reverse ETL tables.
        .target(name: "NexusOutputs", dependencies: ["NexusCore", "NexusProject", "NexusSQL", "NexusWarehouse"]),
        // One run of a project: seeds, models and the engine, staged and swapped in atomically.
        .target(name: "NexusBuild", dependencies: ["NexusCore", "NexusProject", "NexusSQL", "NexusWarehouse", "NexusEngine", "NexusOutputs"]),
        // The bundled demo project and the synthetic clinic generator.
        .target(name: "NexusScaffold", dependencies: ["NexusCore"]),
        .executableTarget(name: "nexus", dependencies: [
            "NexusBuild", "NexusScaffold", "NexusWarehouse", "NexusProject", "NexusCore", "NexusOutputs", "NexusSQL",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "NexusCoreTests", dependencies: ["NexusCore", "NexusScaffold"]),
        .testTarget(name: "NexusProjectTests", dependencies: ["NexusProject", "NexusCore"]),
        .testTarget(name: "NexusWarehouseTests", dependencies: ["NexusWarehouse", "NexusCore", "NexusSQL", "NexusTesting"]),
        // Test support: a real HTTP server standing in for Customer.io.
        .target(name: "NexusTesting", path: "Sources/NexusTesting"),
        .testTarget(name: "NexusCLITests", dependencies: ["nexus", "NexusTesting", "NexusWarehouse"]),
        .testTarget(name: "NexusOutputsTests", dependencies: ["NexusOutputs", "NexusProject", "NexusSQL", "NexusWarehouse", "NexusCore", "NexusTesting"],
                    exclude: ["__Snapshots__"]),
        .testTarget(name: "NexusBuildTests", dependencies: ["NexusBuild", "NexusEngine", "NexusTesting", "NexusScaffold", "NexusWarehouse", "NexusProject", "NexusCore"],
                    exclude: ["__Snapshots__"]),
    ],
    swiftLanguageModes: [.v6]
)
