import Foundation
import MXCheckCore
import XCTest

/// DNSResolver (libunbound) and MXResolution against a real authoritative server: the DNS lab's nsd.
final class DNSResolutionTests: XCTestCase {
    var lab: DNSLab!
    var resolver: DNSResolver!

    override func setUpWithError() throws {
        try super.setUpWithError()
        lab = try DNSLab.shared()
        resolver = try DNSResolver(.commandLine(resolver: lab.resolver))
    }

    override func tearDown() {
        // XCTest keeps every test case object to the end: free each libunbound context (and its thread) now.
        resolver = nil
        super.tearDown()
    }

    private func resolve(_ name: String, _ options: MXResolutionOptions = MXResolutionOptions(queryTimeout: 5)) throws -> DomainResult {
        try MXResolution.resolve(name, using: resolver, options: options)
    }

    /// (MX host, preference, address) of each endpoint, in order.
    private func rows(_ result: DomainResult) -> [String] {
        result.endpoints.map { "\($0.mx.host) \($0.mx.preference) \($0.endpoint.address)" }
    }

    private func ids(_ findings: [Finding]) -> [String] {
        findings.map(\.id.rawValue)
    }

    func testTwoMXAreSortedByPreferenceAndCheckedUnderTheirOwnNames() throws {
        let result = try resolve("two-mx.lab.example")
        XCTAssertEqual(rows(result), ["mx1.lab.example 10 127.0.0.2", "mx2.lab.example 20 127.0.0.3"])
        XCTAssertEqual(result.mx, [MXRecord(preference: 10, exchange: "mx1.lab.example"), MXRecord(preference: 20, exchange: "mx2.lab.example")])
        XCTAssertEqual(result.findings, [])
        let first = try XCTUnwrap(result.endpoints.first)
        XCTAssertEqual(first.domain, "two-mx.lab.example")
        XCTAssertEqual(first.endpoint, Endpoint(host: "mx1.lab.example", address: "127.0.0.2", port: 25, tls: .starttls, serverName: "mx1.lab.example", referenceIdentity: "mx1.lab.example"))
        XCTAssertFalse(first.secure, "no trust anchor: nothing is validated")
    }

    func testAbsoluteMixedCaseDomainIsTheSameDomain() throws {
        XCTAssertEqual(rows(try resolve("Two-MX.Lab.Example.")), ["mx1.lab.example 10 127.0.0.2", "mx2.lab.example 20 127.0.0.3"])
    }

    func testHostWithAAndAAAAGivesTwoEndpoints() throws {
        let result = try resolve("dual.lab.example")
        XCTAssertEqual(rows(result), ["mx-dual.lab.example 10 127.0.0.4", "mx-dual.lab.example 10 ::1"])
        XCTAssertEqual(result.findings, [])
        XCTAssertEqual(rows(try resolve("dual.lab.example", MXResolutionOptions(family: .ipv6Only, queryTimeout: 5))), ["mx-dual.lab.example 10 ::1"])
        XCTAssertEqual(rows(try resolve("dual.lab.example", MXResolutionOptions(family: .ipv4Only, queryTimeout: 5))), ["mx-dual.lab.example 10 127.0.0.4"])
    }

    func testNullMXMeansNoEndpoint() throws {
        let result = try resolve("null-mx.lab.example")
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(ids(result.findings), ["dns.null_mx"])
        XCTAssertEqual(result.findings.first?.severity, .info)
        XCTAssertEqual(result.mx, [MXRecord(preference: 0, exchange: ".")])
    }

    func testNoMXUsesTheDomainsOwnAddress() throws {
        let result = try resolve("implicit.lab.example")
        XCTAssertTrue(result.implicitMX)
        XCTAssertEqual(rows(result), ["implicit.lab.example 0 127.0.0.5"])
        XCTAssertEqual(ids(result.endpoints[0].findings), ["dns.implicit_mx"])
        XCTAssertEqual(result.endpoints[0].endpoint.referenceIdentity, "implicit.lab.example")
    }

    func testNoMXAndNoAddress() throws {
        let result = try resolve("bare.lab.example")
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(ids(result.findings), ["dns.implicit_mx", "dns.mx_no_address"])
    }

    func testMXHostWithoutAddress() throws {
        let result = try resolve("no-address.lab.example")
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(ids(result.findings), ["dns.mx_no_address"])
        XCTAssertTrue(result.findings[0].message.contains("no-address-host.lab.example"), result.findings[0].message)
        XCTAssertEqual(result.findings[0].severity, .critical)
    }

    func testMXHostThatDoesNotExist() throws {
        let result = try resolve("missing-host.lab.example")
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(ids(result.findings), ["dns.nxdomain"])
        XCTAssertTrue(result.findings[0].message.contains("nonexistent-host.lab.example"), result.findings[0].message)
    }

    func testMXThatIsACNAMEIsFlaggedAndStillChecked() throws {
        let result = try resolve("cname.lab.example")
        XCTAssertEqual(rows(result), ["mx-alias.lab.example 10 127.0.0.2", "mx2.lab.example 20 127.0.0.3"])
        XCTAssertEqual(ids(result.endpoints[0].findings), ["dns.mx_cname"])
        XCTAssertTrue(result.endpoints[0].findings[0].message.contains("mx1.lab.example"), result.endpoints[0].findings[0].message)
        XCTAssertEqual(result.endpoints[0].endpoint.referenceIdentity, "mx-alias.lab.example", "the MX name, as a sending MTA checks it")
        XCTAssertEqual(result.endpoints[1].findings, [], "the CNAME finding is about mx-alias, not mx2")
    }

    func testMXThatIsAnIPAddressIsFlaggedAndNotChecked() throws {
        let result = try resolve("ip-literal.lab.example")
        XCTAssertEqual(rows(result), ["mx2.lab.example 20 127.0.0.3"])
        XCTAssertEqual(ids(result.endpoints[0].findings), [], "the IP-literal MX is an object of its own")
        XCTAssertEqual(result.hostsWithoutEndpoint.map(\.mx), [MXHost(host: "192.0.2.1", preference: 10)])
        XCTAssertEqual(result.hostsWithoutEndpoint.first.map { ids($0.findings) }, ["dns.mx_ip_literal"])
        XCTAssertTrue(result.findings[0].message.contains("192.0.2.1"), result.findings[0].message)
    }

    func testMoreThanTwentyMXHosts() throws {
        let result = try resolve("many-mx.lab.example")
        XCTAssertEqual(result.endpoints.count, 20)
        XCTAssertEqual(result.endpoints.first?.mx, MXHost(host: "mx01.many-mx.lab.example", preference: 10))
        XCTAssertEqual(result.endpoints.last?.mx, MXHost(host: "mx20.many-mx.lab.example", preference: 200))
        XCTAssertEqual(result.findings.map(\.message), [
            "many-mx.lab.example has 22 MX hosts: checked the first 20 by preference; skipped mx21.many-mx.lab.example (preference 210), mx22.many-mx.lab.example (preference 220)"
        ])
        XCTAssertTrue(result.endpoints.allSatisfy { ids($0.findings) == ["dns.skipped"] })
    }

    func testMoreThanTenAddresses() throws {
        let result = try resolve("many-addr.lab.example")
        XCTAssertEqual(result.endpoints.map(\.endpoint.address), (1...10).map { "127.0.1.\($0)" })
        XCTAssertEqual(result.findings.map(\.message), ["mx.many-addr.lab.example has 12 addresses: checked the first 10; skipped 127.0.1.11, 127.0.1.12"])
    }

    func testThreeMXHosts() throws {
        let result = try resolve("three-mx.lab.example")
        XCTAssertEqual(rows(result), ["mx1.lab.example 10 127.0.0.2", "mx2.lab.example 20 127.0.0.3", "mx3.lab.example 30 127.0.0.5"])
        XCTAssertEqual(result.findings, [])
    }

    func testMXHostWithoutAddressBesideAGoodOne() throws {
        let result = try resolve("half-empty.lab.example")
        XCTAssertEqual(rows(result), ["mx2.lab.example 20 127.0.0.3"])
        XCTAssertEqual(result.endpoints[0].findings, [])
        XCTAssertEqual(result.hostsWithoutEndpoint.map(\.mx), [MXHost(host: "no-address-host.lab.example", preference: 10)])
        XCTAssertEqual(result.hostsWithoutEndpoint.first.map { ids($0.findings) }, ["dns.mx_no_address"])
    }

    func testDomainThatDoesNotExist() throws {
        let result = try resolve("does-not-exist.lab.example")
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(ids(result.findings), ["dns.nxdomain"])
        XCTAssertEqual(result.findings.first?.severity, .critical)
    }

    func testEveryLabDomainIsCovered() throws {
        // A domain added to dns.sh without a test here fails this test.
        let tested = Set([
            "two-mx", "dual", "null-mx", "implicit", "bare", "no-address", "missing-host", "cname", "ip-literal", "many-mx",
            "many-addr", "does-not-exist", "half-empty", "three-mx",
        ].map { "\($0).lab.example" })
        XCTAssertEqual(Set(lab.domains.keys), Set(tested))
    }

    func testRawAnswersFromLibunbound() throws {
        let deadline = Deadline(secondsFromNow: 5)
        let mx = try resolver.answer(to: DNSQuestion("two-mx.lab.example", .mx), deadline: deadline).get()
        XCTAssertEqual(mx.rcode, .noError)
        XCTAssertFalse(mx.secure)
        XCTAssertFalse(mx.bogus)
        XCTAssertFalse(mx.followedCNAME)
        // libunbound hands MX names over uncompressed: they parse without the message.
        let parsed = try mx.rdata.map { try DNSRecordData.parse(.mx, rdata: $0, message: nil) }
        XCTAssertEqual(Set(parsed), [.mx(MXRecord(preference: 10, exchange: "mx1.lab.example")), .mx(MXRecord(preference: 20, exchange: "mx2.lab.example"))])

        let alias = try resolver.answer(to: DNSQuestion("mx-alias.lab.example", .a), deadline: deadline).get()
        XCTAssertTrue(alias.followedCNAME)
        XCTAssertEqual(alias.cnameTarget, "mx1.lab.example")
        XCTAssertEqual(try alias.addresses(), ["127.0.0.2"])

        let aaaa = try resolver.answer(to: DNSQuestion("mx-dual.lab.example", .aaaa), deadline: deadline).get()
        XCTAssertEqual(try aaaa.addresses(), ["::1"])

        let nodata = try resolver.answer(to: DNSQuestion("mx1.lab.example", .aaaa), deadline: deadline).get()
        XCTAssertTrue(nodata.isNoData)

        let missing = try resolver.answer(to: DNSQuestion("does-not-exist.lab.example", .a), deadline: deadline).get()
        XCTAssertEqual(missing.rcode, .nxDomain)

        // nsd serves lab.example. only and refuses the rest; libunbound turns that into SERVFAIL.
        let outside = try resolver.answer(to: DNSQuestion("example.org", .mx), deadline: deadline).get()
        XCTAssertEqual(outside.rcode, .serverFailure)
    }

    func testNameOutsideTheZoneIsServfail() throws {
        let result = try resolve("example.net")
        XCTAssertEqual(ids(result.findings), ["dns.servfail"])
        XCTAssertEqual(result.findings.first?.severity, .unknown)
    }

    func testResolverWithNothingBehindItTimesOutWithinTheBound() throws {
        let port = try DNSLab.silentPort()
        let silent = try DNSResolver(.commandLine(resolver: "127.0.0.1:\(port)"))
        let started = Date()
        let result = try MXResolution.resolve("two-mx.lab.example", using: silent, options: MXResolutionOptions(queryTimeout: 1.5))
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(ids(result.findings), ["dns.timeout"], result.findings.map(\.message).joined(separator: "; "))
        XCTAssertEqual(result.endpoints, [])
        XCTAssertLessThan(elapsed, 5, "the bound is 1.5 s")
    }

    func testOneResolverSharedByManyThreads() throws {
        let domains = ["two-mx", "dual", "cname", "many-addr", "implicit", "null-mx", "does-not-exist", "many-mx"].map { "\($0).lab.example" }
        let shared = try DNSResolver(.commandLine(resolver: lab.resolver))
        let expected = try domains.map { try MXResolution.resolve($0, using: shared, options: MXResolutionOptions(queryTimeout: 5)) }
        let fresh = try DNSResolver(.commandLine(resolver: lab.resolver))
        let results = ResolvedDomains(count: domains.count * 4)
        DispatchQueue.concurrentPerform(iterations: domains.count * 4) { index in
            let outcome = try? MXResolution.resolve(domains[index % domains.count], using: fresh, options: MXResolutionOptions(queryTimeout: 5))
            results.set(index, outcome)
        }
        for index in 0..<domains.count * 4 {
            XCTAssertEqual(results.get(index), expected[index % domains.count], domains[index % domains.count])
        }
    }

    /// Prints how long a query takes against the lab (uncached names), for the record; asserts a loose bound.
    func testQueryTime() throws {
        let cold = Date()
        let fresh = try DNSResolver(.commandLine(resolver: lab.resolver))
        _ = try fresh.answer(to: DNSQuestion("mx1.lab.example", .a), deadline: Deadline(secondsFromNow: 5)).get()
        let coldMs = Date().timeIntervalSince(cold) * 1000
        let names = (1...22).map { String(format: "mx%02d.many-mx.lab.example", $0) }
        let sequential = Date()
        for name in names {
            _ = try fresh.answer(to: DNSQuestion(name, .a), deadline: Deadline(secondsFromNow: 5)).get()
        }
        let perQueryMs = Date().timeIntervalSince(sequential) * 1000 / Double(names.count)
        let batch = Date()
        let answers = fresh.answers(to: names.map { DNSQuestion($0, .aaaa) }, deadline: Deadline(secondsFromNow: 5))
        let batchMs = Date().timeIntervalSince(batch) * 1000
        XCTAssertTrue(answers.allSatisfy { (try? $0.get().isNoData) == true })
        print("DNS query time against the lab: first query on a new context \(String(format: "%.1f", coldMs)) ms; "
            + "uncached, one at a time \(String(format: "%.2f", perQueryMs)) ms each; \(names.count) at once \(String(format: "%.1f", batchMs)) ms")
        XCTAssertLessThan(perQueryMs, 500)
    }
}

/// ResolvedDomains written by concurrent threads.
private final class ResolvedDomains: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [DomainResult?]

    init(count: Int) {
        values = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: DomainResult?) {
        lock.withLock { values[index] = value }
    }

    func get(_ index: Int) -> DomainResult? {
        lock.withLock { values[index] }
    }
}
