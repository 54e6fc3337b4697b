// swift-tools-version:6.0
// libFuzzer targets for mxcheck's parsers. Built apart from the main package because each target's
// main comes from libFuzzer: swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
import PackageDescription

let package = Package(
    name: "mxcheck-fuzz",
    dependencies: [
        .package(name: "mxcheck", path: "../.."),
    ],
    targets: [
        .executableTarget(name: "FuzzReplyParser", dependencies: [.product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzTargetParser", dependencies: [.product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzCertificateFacts", dependencies: [.product(name: "MXCheckCore", package: "mxcheck")]),
    ],
    swiftLanguageModes: [.v6]
)
