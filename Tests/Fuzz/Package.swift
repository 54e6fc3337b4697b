// swift-tools-version:6.0
// libFuzzer targets for mxcheck's parsers, built apart from the main package with swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
import PackageDescription

let package = Package(
    name: "mxcheck-fuzz",
    dependencies: [
        .package(name: "mxcheck", path: "../.."),
    ],
    targets: [
        .target(name: "CFuzzDriver"),
        .executableTarget(name: "FuzzReplyParser", dependencies: ["CFuzzDriver", .product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzTargetParser", dependencies: ["CFuzzDriver", .product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzServerHello", dependencies: ["CFuzzDriver", .product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzCertificateFacts", dependencies: ["CFuzzDriver", .product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzMonitoringOutput", dependencies: ["CFuzzDriver", .product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzTLSARecords", dependencies: ["CFuzzDriver", .product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzTerminalText", dependencies: ["CFuzzDriver", .product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzReceivedParser", dependencies: ["CFuzzDriver", .product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzPolicyRecords", dependencies: ["CFuzzDriver", .product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzMTASTSPolicy", dependencies: ["CFuzzDriver", .product(name: "MXCheckCore", package: "mxcheck")]),
        .executableTarget(name: "FuzzHTTPResponse", dependencies: ["CFuzzDriver", .product(name: "MXCheckCore", package: "mxcheck")]),
    ],
    swiftLanguageModes: [.v6]
)
