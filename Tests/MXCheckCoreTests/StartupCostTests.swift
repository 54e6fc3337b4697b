import Foundation
import XCTest
@testable import MXCheckCore
import COpenSSL

/// What keeps a start of mxcheck cheap (issue 13), and the stand-ins for the full-Foundation calls it dropped.
final class StartupCostTests: XCTestCase {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// One `import Foundation` anywhere links full Foundation and ICU into the binary (31 MB becomes 80 MB,
    /// and every start maps and relocates it): the library and the executable use FoundationEssentials.
    func testNoSourceImportsFullFoundation() throws {
        let files = FileManager.default.enumerator(atPath: Self.sources.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") } ?? []
        XCTAssertGreaterThan(files.count, 20, "the sources were not found at \(Self.sources.path)")
        for file in files {
            let text = try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                let imported = words.firstIndex(of: "import").map { words.index(after: $0) }.flatMap { $0 < words.count ? words[$0] : nil }
                XCTAssertFalse(
                    ["Foundation", "FoundationNetworking", "FoundationXML", "FoundationInternationalization"].contains(imported.map(String.init) ?? ""),
                    "\(file): \(line)")
            }
        }
    }

    func testCFormatMatchesPrintf() {
        XCTAssertEqual(String(cFormat: "%.1f", 6.45), String(format: "%.1f", 6.45))
        XCTAssertEqual(String(cFormat: "%.3f", 0.0125), "0.013")
        XCTAssertEqual(String(cFormat: "0x%04X", 0x1301), "0x1301")
        XCTAssertEqual(String(cFormat: "%04d-%02d", Int32(2026), Int32(7)), "2026-07")
        // Longer than the first buffer: formatted again into one that fits.
        XCTAssertEqual(String(cFormat: "%0300d!", 7), String(repeating: "0", count: 299) + "7!")
    }

    func testFixedDecimalsMatchPrintf() {
        for value in [0.0, 0.05, 0.25, 0.35, 1.45, 6.45, 8.6, 12345.678, -3.25, 1e20, 4.9e-324] {
            XCTAssertEqual(String(fixed: value, decimals: 1), String(format: "%.1f", value), "\(value)")
            XCTAssertEqual(String(fixed: value, decimals: 3), String(format: "%.3f", value), "\(value)")
        }
        XCTAssertEqual(String(fixed: 2.5, decimals: 0), "2")
        // Longer than the first buffer: formatted again into one that fits.
        XCTAssertEqual(String(fixed: 1e80, decimals: 1), String(format: "%.1f", 1e80))
    }

    func testPaddingAndTrimming() {
        XCTAssertEqual("WARN".padded(toWidth: 8), "WARN    ")
        XCTAssertEqual("CRITICALLY".padded(toWidth: 8), "CRITICAL")
        XCTAssertEqual(" \t mx.example \t".trimmingBlanks(), "mx.example")
        XCTAssertEqual(" mx.example\n".trimmingBlanks(), "mx.example\n")
        XCTAssertEqual("\n mx.example \r\n".trimmingWhitespaceAndLineEnds(), "mx.example")
        XCTAssertEqual(" \n ".trimmingWhitespaceAndLineEnds(), "")
    }

    func testASCIISearchIgnoresCaseOfLettersOnly() {
        XCTAssertTrue("sha1WithRSAEncryption".containsASCII(caseInsensitive: "SHA1"))
        XCTAssertTrue("ecdsa-with-SHA1".containsASCII(caseInsensitive: "sha1"))
        XCTAssertTrue("md5".containsASCII(caseInsensitive: "md5"))
        XCTAssertFalse("sha256WithRSAEncryption".containsASCII(caseInsensitive: "sha1"))
        XCTAssertFalse("md".containsASCII(caseInsensitive: "md5"))
        XCTAssertFalse("".containsASCII(caseInsensitive: "md5"))
        XCTAssertTrue("x".containsASCII(caseInsensitive: ""))
        // Only A-Z fold: '@' (0x40) is not '`' (0x60), and bytes above ASCII match only themselves.
        XCTAssertFalse("`".containsASCII(caseInsensitive: "@"))
        XCTAssertTrue("schlüssel-sha1".containsASCII(caseInsensitive: "SHA1"))
    }

    /// With a hashed certificate directory the system's anchors cost no bundle parsing (and no thread); a
    /// bundle of its own (SSL_CERT_FILE) or a directory without hash links means the bundle is parsed.
    func testSystemAnchorsUseAHashedDirectoryAndParseABundleOnlyWhenNeeded() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-anchors-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bundle = directory.path + "-bundle.pem"
        FileManager.default.createFile(atPath: bundle, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: bundle) }
        let names: [String] = ["SSL_CERT_DIR", "SSL_CERT_FILE"]
        let saved = names.map { name in (name, getenv(name).map { String(cString: $0) }) }
        defer {
            for (name, value) in saved {
                if let value { setenv(name, value, 1) } else { unsetenv(name) }
            }
        }
        setenv("SSL_CERT_DIR", directory.path, 1)
        setenv("SSL_CERT_FILE", bundle, 1)
        var anchors = TrustStore.systemAnchors()
        XCTAssertNil(anchors.directory, "no hash link yet")
        XCTAssertEqual(anchors.bundle, bundle)
        FileManager.default.createFile(atPath: directory.appendingPathComponent("0a1b2c3d.0").path, contents: Data())
        anchors = TrustStore.systemAnchors()
        XCTAssertEqual(anchors.directory, directory.path)
        XCTAssertEqual(anchors.bundle, bundle, "SSL_CERT_FILE outside the directory names a bundle of its own")
        setenv("SSL_CERT_FILE", directory.appendingPathComponent("inside.pem").path, 1)
        anchors = TrustStore.systemAnchors()
        XCTAssertEqual(anchors.directory, directory.path)
        XCTAssertNil(anchors.bundle, "a bundle inside the hashed directory is read through the directory")
    }

    func testSSLErrorsReadWithTheirTextsThoughLoadedLate() throws {
        // OpenSSL starts without libssl's error texts; the first error read loads them.
        try OpenSSLLibrary.prepare()
        let context = try XCTUnwrap(SSL_CTX_new(TLS_client_method()))
        defer { SSL_CTX_free(context) }
        XCTAssertEqual(SSL_CTX_set_cipher_list(context, "NO-SUCH-SUITE"), 0)
        XCTAssertEqual(OpenSSLError.drain().reasons, ["no cipher match"])
    }

    /// A context built in the background is built once, whoever asks first; every end-to-end check's
    /// handshakes use one (the executable builds its context so).
    func testContextBuiltInTheBackgroundIsBuiltOnce() throws {
        let context = TLSClientContext(buildingInBackground: ())
        let handles = Locked<[OpaquePointer]>([])
        let askers = (0..<4).map { _ in JoinableThread { if let handle = try? context.handle() { handles.withLock { $0.append(handle) } } } }
        askers.forEach { $0.join() }
        let first = try context.handle()
        XCTAssertEqual(handles.withLock { $0 }, Array(repeating: first, count: 4))
        XCTAssertNotEqual(try TLSClientContext().handle(), first)
    }

    func testConditionLockTimesOutAndWakes() {
        let condition = ConditionLock()
        condition.lock()
        let started = Date()
        XCTAssertFalse(condition.wait(until: Date(timeIntervalSinceNow: 0.05)))
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.04)
        condition.unlock()

        let woken = Locked(false)
        let waiter = JoinableThread {
            condition.withLock {
                let limit = Date(timeIntervalSinceNow: 5)
                while !woken.withLock({ $0 }) { if !condition.wait(until: limit) { break } }
            }
        }
        condition.withLock {
            woken.withLock { $0 = true }
            condition.broadcast()
        }
        let joinStarted = Date()
        waiter.join()
        XCTAssertLessThan(Date().timeIntervalSince(joinStarted), 4, "the broadcast did not wake the waiter")
    }

    func testHashedCertificateDirectoryIsRecognised() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-hashed-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["README", "ca-certificates.crt", "1a2b3c4d.pem", "1a2b3c4g.0"] {
            FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: Data())
        }
        XCTAssertFalse(TrustStore.holdsHashedCertificate(directory.path))
        FileManager.default.createFile(atPath: directory.appendingPathComponent("1a2B3c4d.0").path, contents: Data())
        XCTAssertTrue(TrustStore.holdsHashedCertificate(directory.path))
        XCTAssertFalse(TrustStore.holdsHashedCertificate(directory.appendingPathComponent("missing").path))
        // Past the first kilobyte of entries: the link is found after hundreds of other names.
        let many = directory.appendingPathComponent("many")
        try FileManager.default.createDirectory(at: many, withIntermediateDirectories: true)
        for index in 0..<400 {
            FileManager.default.createFile(atPath: many.appendingPathComponent("certificate-\(index).pem").path, contents: Data())
        }
        XCTAssertFalse(TrustStore.holdsHashedCertificate(many.path))
        FileManager.default.createFile(atPath: many.appendingPathComponent("ABCDEF01.0").path, contents: Data())
        XCTAssertTrue(TrustStore.holdsHashedCertificate(many.path))
        // The machine's own directory, against a listing of it.
        let isHashName: (String) -> Bool = { name in
            let bytes = Array(name.utf8)
            return bytes.count == 10 && name.hasSuffix(".0") && bytes.prefix(8).allSatisfy { "0123456789abcdefABCDEF".utf8.contains($0) }
        }
        let listed = (try? FileManager.default.contentsOfDirectory(atPath: "/etc/ssl/certs"))?.contains(where: isHashName) ?? false
        XCTAssertEqual(TrustStore.holdsHashedCertificate("/etc/ssl/certs"), listed)
    }

    /// FilePrefix reads in blocks: a file longer than one block comes whole under the cap, and is cut at the cap.
    func testFilePrefixReadsAcrossBlocksUpToTheCap() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-prefix-\(getpid())")
        defer { try? FileManager.default.removeItem(at: file) }
        let bytes = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        FileManager.default.createFile(atPath: file.path, contents: Data(bytes))
        XCTAssertEqual(FilePrefix.read(file.path, maximum: 50_000).map { Array($0) }, bytes)
        XCTAssertEqual(FilePrefix.read(file.path, maximum: 30_000).map { Array($0) }, Array(bytes.prefix(30_000)))
        XCTAssertEqual(FilePrefix.read(file.path, maximum: 16_384).map { Array($0) }, Array(bytes.prefix(16_384)))
        XCTAssertNil(FilePrefix.read(file.path + ".missing", maximum: 10))
    }
}
