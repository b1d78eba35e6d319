// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "freerace",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "freerace", targets: ["freerace"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // Layers, each importing only the ones above it.
        .target(name: "FreeraceSyntax", swiftSettings: strict),
        .target(name: "FreeracePython", dependencies: ["FreeraceSyntax"], swiftSettings: strict),
        .target(name: "FreeraceModel", dependencies: ["FreeraceSyntax", "FreeracePython"], swiftSettings: strict),
        .target(name: "FreeraceRules", dependencies: ["FreeraceModel"], swiftSettings: strict),
        .target(name: "FreeraceReport", dependencies: ["FreeraceRules"], swiftSettings: strict),
        .target(name: "FreeraceRepro", dependencies: ["FreeraceReport"], swiftSettings: strict),
        .target(
            name: "FreeraceDriver",
            dependencies: ["FreeraceReport", "FreeraceRepro", .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "freerace",
            dependencies: ["FreeraceDriver", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FreeraceTests",
            dependencies: ["FreeraceDriver", "freerace"],
            swiftSettings: strict
        ),
    ]
)
