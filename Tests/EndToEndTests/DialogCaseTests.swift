import Foundation
import XCTest

/// Protocol versions, STARTTLS and SMTP dialog cases, against Postfix and the scripted servers.
final class DialogCaseTests: EndToEndTestCase {
    func testLegacyOnlyServer() throws {
        let (status, json) = try check("legacy_tls")
        XCTAssertEqual(status, 1)
        XCTAssertEqual(findingIDs(json), ["tls.legacy_protocol"])
        XCTAssertEqual(field(json, "tls.version") as? String, "TLSv1.1")
        XCTAssertTrue((finding("tls.legacy_protocol", in: json)?["fix"] as? String ?? "").contains("smtpd_tls_protocols"))
    }

    func testTLS13Only() throws {
        let (status, json) = try check("tls13_only")
        XCTAssertEqual(status, 0)
        XCTAssertEqual(field(json, "tls.version") as? String, "TLSv1.3")
        XCTAssertEqual(findingIDs(json), [])
    }

    func testNoSTARTTLS() throws {
        let (status, json) = try check("no_starttls")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["starttls.missing"])
        XCTAssertEqual(field(json, "smtp.starttlsOffered") as? Bool, false)
        XCTAssertTrue(json["tls"] is NSNull)
        XCTAssertTrue(json["certificate"] is NSNull)
        XCTAssertEqual(json["score"] as? Int, 0)
    }

    func testSTARTTLSAnswered454() throws {
        let (status, json) = try check("starttls_454")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["starttls.rejected"])
        XCTAssertTrue((finding("starttls.rejected", in: json)?["message"] as? String ?? "").contains("454"))
    }

    func testSTARTTLSWithoutTLSAfter220() throws {
        let (status, json) = try check("starttls_no_tls")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["starttls.failed"])
        XCTAssertTrue(json["tls"] is NSNull)
    }

    func testGarbageInsteadOfServerHello() throws {
        let (status, json) = try check("starttls_garbage")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["starttls.failed"])
        XCTAssertFalse((finding("starttls.failed", in: json)?["message"] as? String ?? "").isEmpty)
    }

    func testGreeting421IsRateLimitedNotNoTLS() throws {
        let (status, json) = try check("greet_421")
        XCTAssertEqual(status, 3)
        XCTAssertEqual(findingIDs(json), ["smtp.rate_limited"])
        XCTAssertEqual(json["status"] as? String, "unknown")
    }

    func testGreeting554IsRefused() throws {
        let (status, json) = try check("greet_554")
        XCTAssertEqual(status, 3)
        XCTAssertEqual(findingIDs(json), ["smtp.refused"])
    }

    func testEHLORefused() throws {
        let (status, json) = try check("ehlo_rejected")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["smtp.ehlo_rejected"])
    }

    func testServerThatNeverGreetsEndsWithTheTimeout() throws {
        let target = try lab.case("never_greets")
        let result = mxcheck(["smtp", "--json", "--timeout", "3", target.target], timeout: 30)
        XCTAssertEqual(result.status, 2)
        let json = try object(result)
        XCTAssertEqual(findingIDs(json), ["smtp.timeout"])
        XCTAssertTrue((finding("smtp.timeout", in: json)?["message"] as? String ?? "").contains("greeting"))
        // A bound, not a speed target: the check must end near --timeout, not hang.
        XCTAssertGreaterThanOrEqual(result.seconds, 2.9)
        XCTAssertLessThan(result.seconds, 8 + Self.sanitizerSlack)
    }

    func testConnectionRefused() throws {
        let (status, json) = try check("refused")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["smtp.connect_failed"])
        XCTAssertTrue(json["tls"] is NSNull)
    }

    func testImplicitTLS() throws {
        let target = try lab.case("implicit_tls")
        let result = mxcheck(["smtp", "--json", "--ca-file", lab.rootCA, "--tls", "implicit", target.target])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let json = try object(result)
        XCTAssertEqual(field(json, "target.tls") as? String, "implicit")
        XCTAssertEqual(findingIDs(json), [])
        XCTAssertTrue((field(json, "smtp.banner") as? String ?? "").hasPrefix("220 "), "greeting read inside TLS")
        XCTAssertEqual(field(json, "certificate.trusted") as? Bool, true)
    }

    func testImplicitTLSAgainstAPlainPortFails() throws {
        let target = try lab.case("valid")
        let result = mxcheck(["smtp", "--json", "--tls", "implicit", "--timeout", "5", target.target])
        XCTAssertEqual(result.status, 2)
        let json = try object(result)
        XCTAssertEqual(findingIDs(json), ["starttls.failed"])
    }

    func testSubmissionPortRequiringTLS() throws {
        let (status, json) = try check("submission_encrypt")
        XCTAssertEqual(status, 0)
        XCTAssertEqual(findingIDs(json), [])
        XCTAssertEqual(field(json, "smtp.starttlsOffered") as? Bool, true)
    }

    func testIPv6Loopback() throws {
        let (status, json) = try check("ipv6")
        XCTAssertEqual(status, 0)
        XCTAssertEqual(field(json, "target.address") as? String, "::1")
        XCTAssertEqual(findingIDs(json), [])
    }

    func testBareLFAndLowercaseCapabilities() throws {
        let (status, json) = try check("bare_lf")
        XCTAssertEqual(status, 0, "\(json)")
        XCTAssertEqual(field(json, "smtp.starttlsOffered") as? Bool, true)
    }

    func testMultiLineGreetingWithAPauseIsWaitedFor() throws {
        let (status, json) = try check("slow_multiline")
        XCTAssertEqual(status, 0, "\(json)")
        XCTAssertFalse(lab.oddServerCommands().contains { $0.0 == "slow_multiline" && $0.1 == "!early" }, "nothing sent before the final 220 line")
    }

    func testPlaintextAfter220IsNamedAndNeverReadAsTLS() throws {
        let (status, json) = try check("plaintext_after_220")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["starttls.plaintext_after_220"])
        XCTAssertEqual(field(json, "tls.version") as? String, "TLSv1.3", "the handshake still completes after the injected bytes")
    }

    func testSTARTTLSCommandInjection() throws {
        let (status, json) = try check("pipelined_injection")
        XCTAssertEqual(status, 2)
        XCTAssertEqual(findingIDs(json), ["starttls.command_injection"])
        XCTAssertEqual(field(json, "smtp.injectionTest.result") as? String, "vulnerable")
        XCTAssertEqual(json["connections"] as? Int, 2)
        let (skipped, skippedJSON) = try check("pipelined_injection", ["--no-injection-test"])
        XCTAssertEqual(skipped, 0, "without the probe the flaw goes unseen")
        XCTAssertEqual(findingIDs(skippedJSON), [])
    }

    func testImplicitTLSHasNoInjectionProbe() throws {
        let (_, json) = try check("implicit_tls")
        XCTAssertEqual(json["connections"] as? Int, 1)
        XCTAssertTrue(field(json, "smtp.injectionTest") is NSNull)
    }

    func testMalformedReplies() throws {
        for name in ["bad_code", "mixed_codes", "ehlo_10000"] {
            let (status, json) = try check(name)
            XCTAssertEqual(status, 2, name)
            XCTAssertEqual(findingIDs(json), ["smtp.protocol_error"], name)
        }
    }
}
