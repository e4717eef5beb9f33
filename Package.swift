// swift-tools-version: 6.1
import PackageDescription

// The numeric core runs on the platform BLAS: OpenBLAS through a system-library
// target on Linux, Accelerate on Apple platforms (see docs/ARCHITECTURE.md).
let blasDependency: [Target.Dependency] = [
    .target(name: "CBLAS", condition: .when(platforms: [.linux]))
]

let package = Package(
    name: "hat",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hat", targets: ["hat"]),
        .library(name: "TensorEngine", targets: ["TensorEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "TensorEngine",
            dependencies: blasDependency
        ),
        .executableTarget(
            name: "hat",
            dependencies: [
                "TensorEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "HATBenchmarks",
            dependencies: ["TensorEngine"],
            path: "Sources/HATBenchmarks"
        ),
        .testTarget(
            name: "TensorEngineTests",
            dependencies: ["TensorEngine"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
