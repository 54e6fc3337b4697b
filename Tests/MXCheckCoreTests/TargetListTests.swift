import XCTest
@testable import MXCheckCore

final class TargetListTests: XCTestCase {
    func testCommentsAndBlankLines() {
        let text = "# mail hosts\nmx1.example.com\n\n  mx2.example.com:587   # submission\n\t\n[2001:db8::1]:25\r\n#only a comment\n"
        XCTAssertEqual(TargetList.lines(of: text), [
            TargetList.Line(number: 2, text: "mx1.example.com"),
            TargetList.Line(number: 4, text: "mx2.example.com:587"),
            TargetList.Line(number: 6, text: "[2001:db8::1]:25"),
        ])
    }

    func testEmptyInput() {
        XCTAssertEqual(TargetList.lines(of: ""), [])
        XCTAssertEqual(TargetList.lines(of: "\n\n# nothing\n"), [])
    }

    func testMissingFile() {
        XCTAssertThrowsError(try TargetList.read("/nonexistent/targets.txt")) { error in
            XCTAssertEqual(error as? TargetList.ReadError, .unreadable(path: "/nonexistent/targets.txt", reason: "no such file"))
        }
    }
}
