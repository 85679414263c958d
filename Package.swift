// swift-tools-version: 6.2
import PackageDescription

/// Warnings are errors in every target we own: the brief asks for none, and CI is the place that keeps it so.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]
/// The C shims: -Wall -Wextra, as errors too.
let strictC: [CSetting] = [.enableWarning("all"), .enableWarning("extra"), .treatAllWarnings(as: .error)]

let package = Package(
    name: "mmapd",
    products: [
        .executable(name: "mmapd", targets: ["mmapd"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // HMAC-SHA256 for signed links (BoringSSL underneath; never hand-rolled).
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.0.0", traits: [.defaults, "CommandLineArguments"]),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0")
    ],
    targets: [
        // The only C, in two shims for what Swift cannot express. CPOSIXShim: POSIX and Linux calls
        // that know nothing of HTTP (openat2, fallocate, the SIGBUS guard and interruptible calls,
        // the stop-signal pipe, memmem/memrchr, socket progress); the storage layer uses only it.
        .target(name: "CPOSIXShim", path: "Sources/CPOSIXShim", cSettings: strictC),
        // CMicroHTTPD: libmicrohttpd's variadic daemon start and connection queries, the va_list
        // log trampoline, and the GnuTLS check of HTTPS credentials; MicroHTTP alone imports it.
        .target(
            name: "CMicroHTTPD",
            path: "CMicroHTTPD",
            cSettings: strictC,
            linkerSettings: [.linkedLibrary("microhttpd"), .linkedLibrary("gnutls")]
        ),
        // PCRE2's header needs PCRE2_CODE_UNIT_WIDTH defined before it is included; a module map
        // and a one-line header do that. No C code lives here.
        .systemLibrary(name: "CPCRE2", path: "Sources/CPCRE2", pkgConfig: "libpcre2-8"),
        // The one path type (`RelativePath`), pure: request parsing builds it, storage keys by it.
        .target(name: "ConfinedPaths", swiftSettings: strict),
        .target(
            name: "MappedFiles",
            dependencies: ["ConfinedPaths", "CPOSIXShim", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict
        ),
        .target(name: "ByteSearch", dependencies: ["ConfinedPaths", "CPCRE2", "CPOSIXShim", "MappedFiles"], swiftSettings: strict),
        .target(name: "HTTPSemantics", dependencies: ["ConfinedPaths"], swiftSettings: strict),
        .target(name: "MicroHTTP", dependencies: ["CMicroHTTPD", "CPOSIXShim", "HTTPSemantics"], swiftSettings: strict),
        .target(
            name: "Mmapd",
            dependencies: [
                "ConfinedPaths", "MappedFiles", "ByteSearch", "HTTPSemantics", "MicroHTTP",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus")
            ],
            // The pages' style sheet and scripts, compiled into the binary (PageAssets).
            resources: [
                .embedInCode("Assets/mmapd.css"), .embedInCode("Assets/pages.js"),
                .embedInCode("Assets/listing.js"), .embedInCode("Assets/viewer.js"), .embedInCode("Assets/favicon.svg")
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "mmapd",
            dependencies: ["Mmapd", "MicroHTTP", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        // What several test targets share (the seeded generator); never linked into the server.
        .target(name: "TestSupport", dependencies: ["ConfinedPaths"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "HTTPSemanticsTests", dependencies: ["ConfinedPaths", "HTTPSemantics", "TestSupport"]),
        .testTarget(name: "MappedFilesTests", dependencies: ["ConfinedPaths", "MappedFiles", "TestSupport"]),
        .testTarget(name: "ByteSearchTests", dependencies: ["ByteSearch", "ConfinedPaths", "TestSupport"]),
        // Drives a RequestHandler through the request state machine without a daemon.
        .target(
            name: "MicroHTTPTesting", dependencies: ["MicroHTTP", "TestSupport"], path: "Tests/MicroHTTPTesting",
            swiftSettings: strict),
        .testTarget(name: "MicroHTTPTests", dependencies: ["MicroHTTP", "MicroHTTPTesting", "TestSupport"]),
        .testTarget(name: "MmapdTests", dependencies: ["ConfinedPaths", "MicroHTTPTesting", "Mmapd", "TestSupport"])
    ]
)
