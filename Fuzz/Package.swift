// swift-tools-version: 6.2
//
// libFuzzer targets for every parser a client reaches. A separate package, so the root
// Package.swift stays untouched and a plain `swift build` never compiles with -sanitize=fuzzer.
//
// The parsers are compiled from the main package's own sources: `Sources/HTTPSemantics` is a
// symlink to `../Sources/HTTPSemantics` (`Sources/ConfinedPaths`, its path type, likewise), and
// `Sources/SearchWindow/SearchWindow.swift` to the one self-contained file of ByteSearch that
// reads the client's `start`/`end`. (A `.package(path: "..")` dependency cannot be used: the root
// package exports only the `mmapd` executable product, and SwiftPM lets a dependent package use
// products only.)
//
// Build (what `./run` does):
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// Each executable defines LLVMFuzzerTestOneInput. SwiftPM renames an executable's entry point to
// `<Target>_main` (`--defsym main=...`), which would hide libFuzzer's own main: FuzzMain (C)
// defines those names and calls LLVMFuzzerRunDriver, as libFuzzer's main does.
import PackageDescription

let fuzzTargets = [
    "FuzzRange", "FuzzContentRange", "FuzzConditional", "FuzzHTTPDate",
    "FuzzPatchBody", "FuzzQuery", "FuzzRequestTarget", "FuzzJSONText", "FuzzSignedLink", "FuzzGlob",
    "FuzzAccept", "FuzzViewQuery", "FuzzRequestLine", "FuzzMessageFraming",
]

let package = Package(
    name: "mmapd-fuzz",
    products: fuzzTargets.map { .executable(name: $0, targets: [$0]) },
    targets: [
        .target(name: "ConfinedPaths", path: "Sources/ConfinedPaths"),
        .target(name: "HTTPSemantics", dependencies: ["ConfinedPaths"], path: "Sources/HTTPSemantics"),
        .target(name: "SearchWindow", path: "Sources/SearchWindow"),
        .target(name: "FuzzSupport"),
        .target(name: "FuzzMain"),
    ] + fuzzTargets.map { name in
        .executableTarget(name: name, dependencies: ["ConfinedPaths", "HTTPSemantics", "SearchWindow", "FuzzSupport", "FuzzMain"])
    }
)
