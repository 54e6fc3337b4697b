import Foundation
import XCTest
@testable import MXCheckCore

/// Target lists as `--input` reads them: line by line, `#` comments and blank lines dropped.
final class TargetListTests: XCTestCase {
    func lines(of text: String) throws -> [TargetInput] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-targets-\(getpid())-\(UUID().uuidString).txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return Array(try InputLines(path: file.path)).map { TargetInput($0.text, source: $0.source.map { String($0.split(separator: ":").last ?? "") }) }
    }

    func testCommentsAndBlankLines() throws {
        let text = "# mail hosts\nmx1.example.com\n\n  mx2.example.com:587   # submission\n\t\n[2001:db8::1]:25\r\n#only a comment\n"
        XCTAssertEqual(try lines(of: text), [
            TargetInput("mx1.example.com", source: "2"),
            TargetInput("mx2.example.com:587", source: "4"),
            TargetInput("[2001:db8::1]:25", source: "6"),
        ])
    }

    func testEmptyInput() throws {
        XCTAssertEqual(try lines(of: ""), [])
        XCTAssertEqual(try lines(of: "\n\n# nothing\n"), [])
    }

    func testMissingFile() {
        XCTAssertThrowsError(try InputLines(path: "/nonexistent/targets.txt")) { error in
            XCTAssertEqual(error as? InputLines.OpenError, .unreadable(path: "/nonexistent/targets.txt", reason: "no such file"))
        }
    }
}
