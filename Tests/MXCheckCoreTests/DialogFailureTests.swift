import XCTest
@testable import MXCheckCore

/// Transport and TLS trouble → the dialog failure the user sees: one mapping each, the phase deciding.
final class DialogFailureTests: XCTestCase {
    func testTLSTroubleInTheHandshakeIsAFailedHandshake() {
        XCTAssertEqual(failure(TLSSession.Failure.closed, phase: handshakePhase), .handshakeFailed("the server closed the connection during the handshake"))
        XCTAssertEqual(failure(TLSSession.Failure.failed("alert 40"), phase: handshakePhase), .handshakeFailed("alert 40"))
        XCTAssertEqual(failure(TLSSession.Failure.timedOut, phase: handshakePhase), .timeout(phase: "in the TLS handshake"))
    }

    func testTLSTroubleAfterTheHandshakeIsAProtocolErrorNamingThePhase() {
        let phase = "waiting for the EHLO reply inside TLS"
        XCTAssertEqual(failure(TLSSession.Failure.closed, phase: phase), .protocolError("the server closed the TLS session while \(phase)"))
        XCTAssertEqual(failure(TLSSession.Failure.failed("bad record mac"), phase: phase), .protocolError("TLS error while \(phase): bad record mac"))
        XCTAssertEqual(failure(TLSSession.Failure.timedOut, phase: phase), .timeout(phase: phase))
    }

    func testConnectionTroubleWhileConnectingIsAFailedConnect() {
        XCTAssertEqual(failure(ConnectionError.closedByPeer, phase: connectingPhase), .connectFailed("connection reset"))
        XCTAssertEqual(failure(ConnectionError.io("EPIPE"), phase: connectingPhase), .connectFailed("EPIPE"))
        XCTAssertEqual(Checker.connectFailure(.connectFailed("refused")), .connectFailed("refused"))
        XCTAssertEqual(failure(ConnectionError.closedByPeer, phase: "waiting for the greeting"), .closed(phase: "waiting for the greeting"))
        XCTAssertEqual(failure(ConnectionError.io("EPIPE"), phase: "sending EHLO"), .protocolError("EPIPE while sending EHLO"))
    }
}
