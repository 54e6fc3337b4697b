import Foundation
import XCTest
@testable import MXCheckCore

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

    func testPaddingAndTrimming() {
        XCTAssertEqual("WARN".padded(toWidth: 8), "WARN    ")
        XCTAssertEqual("CRITICALLY".padded(toWidth: 8), "CRITICAL")
        XCTAssertEqual(" \t mx.example \t".trimmingBlanks(), "mx.example")
        XCTAssertEqual(" mx.example\n".trimmingBlanks(), "mx.example\n")
        XCTAssertEqual("\n mx.example \r\n".trimmingWhitespaceAndLineEnds(), "mx.example")
        XCTAssertEqual(" \n ".trimmingWhitespaceAndLineEnds(), "")
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
