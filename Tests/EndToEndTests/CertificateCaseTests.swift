import Foundation
import XCTest

/// The certificate cases, each served by its own smtpd of the private Postfix.
final class CertificateCaseTests: EndToEndTestCase {
    func testValidChain() throws {
        let (status, json) = try check("valid")
        XCTAssertEqual(status, 0)
        XCTAssertEqual(json["status"] as? String, "ok")
        XCTAssertEqual(json["score"] as? Int, 100)
        XCTAssertEqual(findingIDs(json), [])
        XCTAssertEqual(json["connections"] as? Int, 2, "the check and the injection probe")
        XCTAssertEqual(field(json, "smtp.injectionTest.result") as? String, "clean", "Postfix ignores commands pipelined before TLS")
        XCTAssertEqual(json["schemaVersion"] as? Int, 2)
        XCTAssertEqual(json["input"] as? String, try lab.case("valid").target)
        XCTAssertEqual(json["mxcheckVersion"] as? String, "0.2.0")
        XCTAssertNotNil(json["checkedAt"] as? String)
        XCTAssertEqual(field(json, "certificate.namesTotal") as? Int, 3)
        XCTAssertEqual(field(json, "target.address") as? String, "127.0.0.1")
        XCTAssertEqual(field(json, "target.tls") as? String, "starttls")
        XCTAssertEqual(field(json, "smtp.starttlsOffered") as? Bool, true)
        XCTAssertTrue((field(json, "smtp.banner") as? String ?? "").hasPrefix("220 "))
        XCTAssertTrue((field(json, "smtp.ehloCapabilities") as? [String] ?? []).contains("STARTTLS"))
        XCTAssertEqual(field(json, "tls.version") as? String, "TLSv1.3")
        XCTAssertEqual(field(json, "tls.cipher") as? String, "TLS_AES_256_GCM_SHA384")
        XCTAssertNotNil(field(json, "tls.group") as? String)
        XCTAssertEqual(field(json, "certificate.trusted") as? Bool, true)
        XCTAssertTrue(field(json, "certificate.verifyError") is NSNull)
        XCTAssertEqual(field(json, "certificate.hostnameMatch") as? Bool, true)
        XCTAssertEqual(field(json, "certificate.keyType") as? String, "RSA")
        XCTAssertEqual(field(json, "certificate.keyBits") as? Int, 2048)
        XCTAssertEqual(field(json, "certificate.signatureAlgorithm") as? String, "sha256WithRSAEncryption")
        XCTAssertEqual((field(json, "certificate.chain") as? [Any])?.count, 2, "leaf and intermediate, as sent")
        XCTAssertEqual(field(json, "certificate.names") as? [String], ["mx.lab.example", "127.0.0.1", "::1"])
        XCTAssertEqual((field(json, "certificate.sha256") as? String)?.count, 64)
        let days = field(json, "certificate.daysRemaining") as? Int ?? -1
        XCTAssertTrue((360...366).contains(days), "daysRemaining \(days)")
    }

    func testOneConnectionWithoutTheInjectionProbe() throws {
        let (status, json) = try check("valid", ["--no-injection-test"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(json["connections"] as? Int, 1)
        XCTAssertTrue(field(json, "smtp.injectionTest") is NSNull)
    }

    func testValidChainByNameWithServername() throws {
        let (status, json) = try check("valid", ["--servername", "mx.lab.example"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(findingIDs(json), [])
    }

    func testWithoutTheLabRootTheChainIsUntrusted() throws {
        let target = try lab.case("valid")
        let result = mxcheck(["smtp", "--json", target.target])
        XCTAssertEqual(result.status, 2)
        let json = try object(result)
        XCTAssertEqual(findingIDs(json), ["cert.untrusted"])
        XCTAssertEqual(field(json, "certificate.trusted") as? Bool, false)
        XCTAssertNotNil(field(json, "certificate.verifyError") as? String)
    }

    func testExpired() throws {
        let (status, json) = try check("expired")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["cert.expired"], "cert.expired stands instead of cert.untrusted")
        XCTAssertLessThan(field(json, "certificate.daysRemaining") as? Int ?? 0, 0)
        XCTAssertEqual(json["status"] as? String, "critical")
    }

    func testNotYetValid() throws {
        let (status, json) = try check("not_yet_valid")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["cert.not_yet_valid"])
    }

    func testExpiringWithinCrit() throws {
        let (status, json) = try check("expiring_crit")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["cert.expiring"])
        XCTAssertEqual(finding("cert.expiring", in: json)?["severity"] as? String, "critical")
    }

    func testExpiringWithinWarn() throws {
        let (status, json) = try check("expiring_warn")
        XCTAssertEqual(status, 1)
        XCTAssertEqual(findingIDs(json), ["cert.expiring"])
        XCTAssertEqual(finding("cert.expiring", in: json)?["severity"] as? String, "warning")
        XCTAssertEqual(json["status"] as? String, "warning")
        XCTAssertEqual(json["score"] as? Int, 90)
    }

    func testExpiryThresholdsAreOptions() throws {
        let (status, json) = try check("expiring_warn", ["--warn-days", "5", "--crit-days", "2"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(findingIDs(json), [])
        let (critStatus, critJSON) = try check("expiring_warn", ["--warn-days", "30", "--crit-days", "20"])
        XCTAssertEqual(critStatus, 2)
        XCTAssertEqual(finding("cert.expiring", in: critJSON)?["severity"] as? String, "critical")
    }

    func testSelfSigned() throws {
        let (status, json) = try check("self_signed")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["cert.self_signed"])
    }

    func testUnknownCA() throws {
        let (status, json) = try check("unknown_ca")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["cert.untrusted"])
        XCTAssertEqual(field(json, "certificate.hostnameMatch") as? Bool, true)
    }

    func testIntermediateMissing() throws {
        let (status, json) = try check("chain_incomplete")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["cert.chain_incomplete"])
        XCTAssertEqual((field(json, "certificate.chain") as? [Any])?.count, 1)
        XCTAssertTrue((finding("cert.chain_incomplete", in: json)?["fix"] as? String ?? "").contains("smtpd_tls_chain_files"))
    }

    func testHostnameMismatch() throws {
        let (status, json) = try check("hostname_mismatch")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["cert.hostname_mismatch"])
        XCTAssertEqual(field(json, "certificate.hostnameMatch") as? Bool, false)
        let (byName, byNameJSON) = try check("hostname_mismatch", ["--servername", "other.lab.example"])
        XCTAssertEqual(byName, 0, "the same certificate matches the name it carries")
        XCTAssertEqual(findingIDs(byNameJSON), [])
    }

    func testECDSACertificate() throws {
        let (status, json) = try check("ecdsa")
        XCTAssertEqual(status, 0)
        XCTAssertEqual(findingIDs(json), [])
        XCTAssertEqual(field(json, "certificate.keyType") as? String, "EC")
        XCTAssertEqual(field(json, "certificate.keyBits") as? Int, 256)
        XCTAssertEqual(field(json, "certificate.signatureAlgorithm") as? String, "sha256WithRSAEncryption", "signed by the lab's RSA intermediate")
    }

    func testRSA1024WithSHA1Signature() throws {
        let (status, json) = try check("weak_key")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["cert.weak_key", "cert.weak_signature"], "the specific findings stand instead of cert.untrusted")
        XCTAssertEqual(field(json, "certificate.keyBits") as? Int, 1024)
        XCTAssertEqual(field(json, "certificate.signatureAlgorithm") as? String, "sha1WithRSAEncryption")
        // Trusted means what a default OpenSSL 3 client accepts (security level 2), though the handshake still completes.
        XCTAssertEqual(field(json, "certificate.trusted") as? Bool, false)
        XCTAssertEqual(field(json, "certificate.verifyError") as? String, "EE certificate key too weak")
        XCTAssertEqual(field(json, "tls.version") as? String, "TLSv1.3")
    }

    func testTheLastOf1001NamesMatches() throws {
        let (status, json) = try check("many_names", ["--servername", "mx.lab.example"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(findingIDs(json), [])
        XCTAssertEqual(field(json, "certificate.hostnameMatch") as? Bool, true, "mx.lab.example is the 1,001st name")
        XCTAssertEqual(field(json, "certificate.trusted") as? Bool, true)
        let names = field(json, "certificate.names") as? [String] ?? []
        XCTAssertEqual(names.first, "n1.lab.example")
        XCTAssertLessThan(names.count, 1001, "the display list is capped")
        // certificate.namesTotal arrives with the JSON wiring of CertificateFacts.namesTotal; from then on it is checked.
        if let total = field(json, "certificate.namesTotal") {
            XCTAssertEqual(total as? Int, 1001)
        }
    }
}
