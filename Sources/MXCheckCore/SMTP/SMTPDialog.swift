import FoundationEssentials
import Glibc

/// The byte stream an SMTP dialog runs over: the plain socket, then TLS.
protocol ByteStream: AnyObject {
    /// What the dialog is doing, for messages about timeouts and closed connections.
    var phase: String { get set }
    func write(_ bytes: [UInt8], deadline: Deadline) throws(DialogFailure)
    /// Empty: the server closed the stream.
    func read(maximum: Int, deadline: Deadline) throws(DialogFailure) -> [UInt8]
}

extension DialogFailure: Error {}

/// The phase of a connection that is not yet established.
let connectingPhase = "connecting"

/// The one mapping of transport trouble to what the user sees, naming the phase.
func failure(_ error: ConnectionError, phase: String) -> DialogFailure {
    switch error {
    case .timedOut: return .timeout(phase: phase)
    case .local(let reason): return .localError(reason)
    case .connectFailed(let reason): return .connectFailed(reason)
    case .closedByPeer: return phase == connectingPhase ? .connectFailed("connection reset") : .closed(phase: phase)
    case .io(let reason): return phase == connectingPhase ? .connectFailed(reason) : .protocolError("\(reason) while \(phase)")
    }
}

/// The phase of the TLS handshake.
let handshakePhase = "in the TLS handshake"

/// The one mapping of TLS trouble to what the user sees: in the handshake a failed handshake, after it a
/// protocol error naming the phase.
func failure(_ error: TLSSession.Failure, phase: String) -> DialogFailure {
    let inHandshake = phase == handshakePhase
    switch error {
    case .timedOut: return .timeout(phase: phase)
    case .closed:
        return inHandshake ? .handshakeFailed("the server closed the connection during the handshake") : .protocolError("the server closed the TLS session while \(phase)")
    case .failed(let reason): return inHandshake ? .handshakeFailed(reason) : .protocolError("TLS error while \(phase): \(reason)")
    }
}

final class PlainStream: ByteStream {
    let connection: TCPConnection
    var phase = connectingPhase

    init(connection: TCPConnection) {
        self.connection = connection
    }

    func write(_ bytes: [UInt8], deadline: Deadline) throws(DialogFailure) {
        do { try connection.send(bytes, deadline: deadline) } catch { throw failure(error, phase: phase) }
    }

    func read(maximum: Int, deadline: Deadline) throws(DialogFailure) -> [UInt8] {
        do { return try connection.receive(maximum: maximum, deadline: deadline) } catch { throw failure(error, phase: phase) }
    }
}

final class TLSStream: ByteStream {
    let session: TLSSession
    var phase = "talking inside TLS"

    init(session: TLSSession) {
        self.session = session
    }

    func write(_ bytes: [UInt8], deadline: Deadline) throws(DialogFailure) {
        do { try session.write(bytes, deadline: deadline) } catch { throw failure(error, phase: phase) }
    }

    func read(maximum: Int, deadline: Deadline) throws(DialogFailure) -> [UInt8] {
        do { return try session.read(maximum: maximum, deadline: deadline) } catch { throw failure(error, phase: phase) }
    }
}

/// Reads SMTP replies and sends commands over a stream, keeping a transcript.
final class SMTPDialog {
    var stream: ByteStream
    private var buffer: [UInt8] = []
    private var start = 0
    private var parser = SMTPReplyParser()
    private let record: (String) -> Void

    init(stream: ByteStream, record: @escaping (String) -> Void) {
        self.stream = stream
        self.record = record
    }

    /// Bytes received but not yet consumed as replies.
    var unconsumed: ArraySlice<UInt8> { buffer[start...] }

    func discardUnconsumed() {
        buffer.removeAll()
        start = 0
    }

    func send(_ command: String, deadline: Deadline, phase: String) throws(DialogFailure) {
        stream.phase = phase
        record("C: \(command)")
        try stream.write(Array((command + "\r\n").utf8), deadline: deadline)
    }

    /// Several commands in one write, as a pipelining client (or an attacker) sends them.
    func sendTogether(_ commands: [String], deadline: Deadline, phase: String) throws(DialogFailure) {
        stream.phase = phase
        var shown = ""
        var wire = ""
        for command in commands {
            shown += shown.isEmpty ? "C: " : "\nC: "
            shown += command
            wire += command
            wire += "\r\n"
        }
        record(shown)
        try stream.write(Array(wire.utf8), deadline: deadline)
    }

    /// The reply as the transcript shows it: an "S: " line for each of its lines. Built by appending, since
    /// `joined(separator:)` is generic code that looks up conformances at run time.
    static func transcript(of reply: SMTPReply) -> String {
        var text = ""
        for (index, line) in reply.lines.enumerated() {
            text += index == 0 ? "S: " : "\nS: "
            text += String(reply.code)
            text += index == reply.lines.count - 1 ? " " : "-"
            text += line
        }
        return text
    }

    func readReply(deadline: Deadline, phase: String) throws(DialogFailure) -> SMTPReply {
        stream.phase = phase
        while true {
            do {
                if let reply = try parser.parse(buffer, start: &start) {
                    record(Self.transcript(of: reply))
                    compact()
                    return reply
                }
            } catch {
                record("S: \(SMTPReplyParser.printable(buffer[start...].prefix(200)))")
                throw .protocolError("\(error.description) while \(phase)")
            }
            compact()
            let chunk = try stream.read(maximum: 16_384, deadline: deadline)
            if chunk.isEmpty {
                throw .closed(phase: phase)
            }
            buffer += chunk
        }
    }

    private func compact() {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }
}
