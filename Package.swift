// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mxcheck",
    products: [
        .executable(name: "mxcheck", targets: ["mxcheck"]),
        .library(name: "MXCheckCore", targets: ["MXCheckCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CUnbound",
            providers: [.apt(["libunbound-dev"])]
        ),
        .target(
            name: "CMXCheckShims",
            dependencies: ["COpenSSL"]
        ),
        .target(
            name: "MXCheckCore",
            dependencies: ["COpenSSL", "CMXCheckShims", "CUnbound"]
        ),
        .executableTarget(
            name: "mxcheck",
            dependencies: [
                "MXCheckCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "MXCheckCoreTests",
            dependencies: ["MXCheckCore"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["MXCheckCore"]
        ),
        .testTarget(
            name: "mxcheckTests",
            dependencies: [
                "mxcheck",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
