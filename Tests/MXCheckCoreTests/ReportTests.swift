import XCTest
@testable import MXCheckCore

final class ReportTests: XCTestCase {
    func testStatusOrder() {
        XCTAssertEqual(Status(worstOf: []), .ok)
        XCTAssertEqual(Status(worstOf: [Finding(.certCNOnly, message: "")]), .warning)
        XCTAssertEqual(Status(worstOf: [Finding(.certCNOnly, message: ""), Finding(.smtpRateLimited, message: "")]), .unknown)
        XCTAssertEqual(Status(worstOf: [Finding(.smtpRateLimited, message: ""), Finding(.certExpired, message: "")]), .critical)
        XCTAssertEqual([Status.ok, .unknown, .warning].max(), .unknown)
        XCTAssertEqual([Status.critical, .unknown].max(), .critical)
        XCTAssertEqual([Status.ok, .warning, .critical, .unknown].map(\.exitCode), [0, 1, 2, 3])
    }

    func testScoreDeductsEachIdOnceNeverBelowZero() {
        let findings = [
            Finding(.certWeakSignature, message: "leaf"), Finding(.certWeakSignature, message: "intermediate"),
            Finding(.tlsLegacyProtocol, message: ""),
        ]
        XCTAssertEqual(Scoring.deductions(for: findings).map(\.points), [30, 15])
        XCTAssertEqual(Scoring.score(for: findings), 55)
        XCTAssertEqual(Scoring.score(for: [Finding(.starttlsMissing, message: ""), Finding(.certExpired, message: "")]), 0)
        XCTAssertEqual(Scoring.score(for: [Finding(.certExpiring, severity: .warning, message: "")]), 90)
        XCTAssertEqual(Scoring.score(for: [Finding(.certExpiring, severity: .critical, message: "")]), 70)
    }

    func testEveryFindingHasAFixAndADeductionForItsSeverity() {
        for id in FindingID.allCases {
            let entry = FindingCatalogue.entry(for: id)
            XCTAssertFalse(entry.fix.isEmpty, id.rawValue)
            XCTAssertNotNil(entry.deduction[entry.severity], id.rawValue)
        }
    }

    func testJSONSerialisation() {
        let value = JSONValue.object(["b": .null, "a": .array([.int(1), .bool(true), .string("x/\"y\"\n\u{1}")]), "c": .double(41.25)])
        XCTAssertEqual(value.serialized(), #"{"a":[1,true,"x/\"y\"\n\u0001"],"b":null,"c":41.2}"#)
    }

    func testDatesAreRFC3339UTC() {
        XCTAssertEqual(JSONDates.format(Date(timeIntervalSince1970: 1_795_435_200)), "2026-11-23T12:00:00Z")
    }
}
