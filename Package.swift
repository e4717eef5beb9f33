// swift-tools-version: 6.1
import PackageDescription

// The pipeline stages are the modules (docs/ARCHITECTURE.md); each depends only on those above it.
// The numeric core runs on the platform BLAS: OpenBLAS through a system-library target on
// Linux, Accelerate on Apple platforms.
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
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // SentencePiece's C++ classes do not import into Swift (non-copyable types), so a small
        // C++ shim exposes an extern "C" API over them (build-notes.md). It also reads .gz corpora
        // through zlib, which Foundation lacks on Linux.
        .target(
            name: "CSentencePiece",
            linkerSettings: [
                .linkedLibrary("sentencepiece"), .linkedLibrary("sentencepiece_train"), .linkedLibrary("z"),
            ]
        ),
        // Small-M matrix kernels for decoder steps (docs/PERFORMANCE.md): AVX2 / AVX-512 chosen at
        // run time, portable C otherwise.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // MPI loaded at run time (dlopen): no build-time dependency on an MPI library.
        .target(name: "CMPI", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .target(name: "Cluster", dependencies: ["CMPI"]),
        .target(name: "TensorEngine", dependencies: blasDependency + ["CKernels"]),
        .target(name: "NN", dependencies: ["TensorEngine"]),
        .target(name: "Model", dependencies: ["NN", .product(name: "Yams", package: "Yams")]),
        .target(name: "Datasets", dependencies: ["CSentencePiece"]),
        .target(name: "Train", dependencies: ["Cluster", "Model", "NN", "Datasets", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Generate", dependencies: ["Model", "Datasets", "Train", "CKernels", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Latency", dependencies: ["Model", "NN", "Datasets", "Generate"]),
        .target(name: "Search", dependencies: ["Cluster", "TensorEngine", "NN", "Model", "Datasets", "Train", "Latency", "Compress"]),
        .target(
            name: "Pipeline",
            dependencies: ["Datasets", "Train", "Generate", "Latency", "Search", "Export", "Compress", .product(name: "Yams", package: "Yams")]),
        .target(name: "Export", dependencies: ["Model", "NN", "TensorEngine", "Datasets"]),
        .target(name: "HATFiles", dependencies: ["Model", "NN", "TensorEngine", "Datasets", "Train"]),
        .target(name: "Compress", dependencies: ["Model", "NN", "TensorEngine", "Datasets", "Train"]),
        .target(name: "Report", dependencies: ["Datasets", "Pipeline", "Search", "Train", "Latency"]),
        .executableTarget(
            name: "hat",
            dependencies: [
                "TensorEngine", "NN", "Model", "Datasets", "Train", "Generate", "Latency", "Search", "Pipeline", "Report", "Export", "HATFiles", "Cluster",
                "Compress",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "HATBenchmarks",
            dependencies: ["TensorEngine", "NN", "Model", "Datasets"],
            path: "Sources/HATBenchmarks"
        ),
        // Test-only helpers: runs the Python oracles, compares arrays, finds ../shared/data.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TensorEngineTests", dependencies: ["TensorEngine", "CKernels", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "TestSupport"]),
        .testTarget(name: "TrainTests", dependencies: ["Train", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "GenerateTests", dependencies: ["Generate", "TestSupport"]),
        .testTarget(name: "LatencyTests", dependencies: ["Latency", "Datasets", "Generate", "TestSupport"]),
        .testTarget(name: "SearchTests", dependencies: ["Search", "TestSupport"]),
        .testTarget(name: "ExportTests", dependencies: ["Export", "Model", "Generate", "Compress", "Train", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Report", "TestSupport"]),
        .testTarget(
            name: "CompressTests", dependencies: ["Compress", "Model", "NN", "Datasets", "Train", "TensorEngine", "CKernels", "Generate", "TestSupport"]),
        .testTarget(name: "HATFilesTests", dependencies: ["HATFiles", "Model", "Train", "TensorEngine", "Generate", "Search", "Datasets", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
