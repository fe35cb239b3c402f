// swift-tools-version: 6.0
import PackageDescription

// The folders show the architecture:
//   Sources/Sandbox            the sandbox spec (SandboxSpec): what a sandbox is, as a value, its
//                              checks, the engine choice; no Glibc (BurrowSandbox)
//   Sources/Seccomp            seccomp filters as data, compiled to BPF: pure (BurrowSeccomp)
//   Sources/FrontEnds          command lines that build a spec: pure (BurrowFrontEnds)
//   Sources/Kernel             the one layer that talks to the kernel (BurrowKernel)
//   Sources/CKernel            C: one-line wrappers for what Swift cannot call, and the child
//                              programs that run between clone and exec (its README.md)
//   Sources/Engines/Cleaner    the cleaner process both engines use: removes what was made on the host (BurrowCleaner)
//   Sources/Engines/Namespace  realises a spec with user namespaces (NamespaceEngine)
//   Sources/Engines/Setuid     setuid-root mode without user namespaces: privilege handling (SetuidEngine)
//   Sources/Engines/Ptrace     realises a spec by tracing and path translation (PtraceEngine)
//   Sources/burrow             the executable: picks a front-end and an engine
// Concrete generic types (an Array of a struct, a Dictionary) get metadata accessors that
// call the runtime directly, instead of the runtime demangling their names at first use: that
// demangling (and the protocol-conformance searches it makes for a Dictionary's or a Set's
// key) was about 40% of burrow's user time at every start (bench/README.md).
let startUp: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"])]

let package = Package(
    name: "Burrow",
    products: [
        .executable(name: "burrow", targets: ["burrow"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1")
    ],
    targets: [
        .target(name: "CKernel", path: "Sources/CKernel", exclude: ["README.md"]),
        .target(name: "BurrowSandbox", path: "Sources/Sandbox", swiftSettings: startUp),
        .target(name: "BurrowSeccomp", dependencies: ["BurrowSandbox"], path: "Sources/Seccomp", swiftSettings: startUp),
        .target(name: "BurrowFrontEnds", dependencies: ["BurrowSandbox"], path: "Sources/FrontEnds", swiftSettings: startUp),
        .target(
            name: "BurrowKernel",
            dependencies: ["CKernel", .product(name: "SystemPackage", package: "swift-system")],
            path: "Sources/Kernel", swiftSettings: startUp),
        .target(
            name: "BurrowCleaner", dependencies: ["CKernel", "BurrowKernel", .product(name: "SystemPackage", package: "swift-system")], path: "Sources/Engines/Cleaner", swiftSettings: startUp),
        .target(
            name: "NamespaceEngine",
            dependencies: ["BurrowSandbox", "BurrowKernel", "BurrowSeccomp", "BurrowCleaner"],
            path: "Sources/Engines/Namespace", swiftSettings: startUp),
        .target(
            name: "SetuidEngine",
            dependencies: ["BurrowSandbox", "BurrowKernel", "NamespaceEngine", .product(name: "SystemPackage", package: "swift-system")],
            path: "Sources/Engines/Setuid", swiftSettings: startUp),
        .target(
            name: "PtraceEngine",
            dependencies: ["BurrowSandbox", "BurrowKernel", "BurrowSeccomp", "BurrowCleaner", .product(name: "SystemPackage", package: "swift-system")],
            path: "Sources/Engines/Ptrace", swiftSettings: startUp),
        .executableTarget(
            name: "burrow",
            dependencies: ["BurrowSandbox", "BurrowFrontEnds", "BurrowKernel", "NamespaceEngine", "SetuidEngine", "PtraceEngine"],
            path: "Sources/burrow", swiftSettings: startUp),
        .testTarget(name: "SandboxTests", dependencies: ["BurrowSandbox"], path: "Tests/SandboxTests"),
        .testTarget(
            name: "SeccompTests", dependencies: ["BurrowSeccomp", "BurrowSandbox"], path: "Tests/SeccompTests"),
        .testTarget(
            name: "FrontEndTests", dependencies: ["BurrowFrontEnds", "BurrowSandbox"],
            path: "Tests/FrontEndTests"),
        .testTarget(name: "PtraceTests", dependencies: ["PtraceEngine", "BurrowSandbox", "BurrowSeccomp"], path: "Tests/PtraceTests"),
        .testTarget(name: "IntegrationTests", path: "Tests/IntegrationTests"),
    ]
)
