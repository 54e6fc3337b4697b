import FoundationEssentials
import Dispatch
import Glibc

/// What one probe connection got back for its ClientHello.
public enum ProbeReply: Sendable, Equatable {
    case answer(ServerAnswer)
    /// The server closed or reset the connection without sending a byte.
    case closed
    /// Nothing complete arrived within the connection's time bound.
    case timedOut
    /// Bytes came back that are not a readable answer.
    case unreadable(ServerAnswerError)
}

/// One probe connection: open it to where the client's first TLS record goes, send the hello, read the
/// answer, close. A `DialogFailure` means the connection never got as far as the hello.
public protocol ProbeTransport: Sendable {
    func exchange(_ hello: [UInt8], keyExchange: Bool) throws(DialogFailure) -> ProbeReply
}

/// The real transport: the SMTP dialog of `Checker.openForTLS` (or nothing, for implicit TLS), then the raw hello.
public struct SMTPProbeTransport: ProbeTransport {
    public let checker: Checker
    public let endpoint: Endpoint
    /// Bound on each probe connection, dialog included, in seconds.
    public let timeout: Double

    public init(checker: Checker, endpoint: Endpoint, timeout: Double) {
        self.checker = checker
        self.endpoint = endpoint
        self.timeout = timeout
    }

    public func exchange(_ hello: [UInt8], keyExchange: Bool) throws(DialogFailure) -> ProbeReply {
        let deadline = Deadline(secondsFromNow: timeout)
        let connection = try checker.openForTLS(endpoint, deadline: deadline)
        defer { connection.close() }
        do {
            try connection.send(hello, deadline: deadline)
        } catch {
            return error == .timedOut ? .timedOut : .closed
        }
        return Self.readAnswer(keyExchange: keyExchange) { maximum throws(ConnectionError) in
            try connection.receive(maximum: maximum, deadline: deadline)
        }
    }

    /// Reads until the parser has a complete answer, the server closes, the deadline passes or the cap is
    /// reached. Each turn either returns or grows the buffer, which is capped: the loop ends.
    static func readAnswer(keyExchange: Bool, receive: (Int) throws(ConnectionError) -> [UInt8]) -> ProbeReply {
        var received: [UInt8] = []
        while true {
            var atEnd = false
            var timedOut = false
            do {
                let chunk = try receive(min(16_384, ServerAnswerParser.maximumBytes - received.count))
                if chunk.isEmpty { atEnd = true } else { received += chunk }
            } catch {
                if error == .timedOut { timedOut = true }
                atEnd = true
            }
            if atEnd && received.isEmpty { return timedOut ? .timedOut : .closed }
            do {
                switch try ServerAnswerParser.parse(received, keyExchange: keyExchange, atEnd: atEnd) {
                case .complete(let answer): return .answer(answer)
                case .needMore: continue
                }
            } catch {
                if timedOut, case .truncated = error { return .timedOut }
                return .unreadable(error)
            }
        }
    }
}

/// Bounds the connections to one address: at most `limit` open at once, `delay` between two starts, and a
/// pause for everyone after the server asked to slow down. Share one gate between the probes of one address.
public final class ConnectionGate: @unchecked Sendable {
    private let condition = ConditionLock()
    private let limit: Int
    private let delayNanoseconds: UInt64
    private var open = 0
    private var notBefore: UInt64 = 0

    public init(limit: Int, delayMilliseconds: Int) {
        self.limit = max(1, limit)
        self.delayNanoseconds = UInt64(max(0, delayMilliseconds)) * 1_000_000
    }

    /// Waits for a free slot and for the pause and delay to have passed; every wait ends when a holder
    /// releases (probes are time-bounded) or when the clock reaches `notBefore`.
    func acquire() {
        _ = acquire(before: nil)
    }

    /// The same, giving up when `deadline` passes (or its stop signal is raised): false then, and no slot is taken.
    func acquire(before deadline: Deadline?) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let deadline, deadline.hasPassed { return false }
            let now = DispatchTime.now().uptimeNanoseconds
            if open < limit && now >= notBefore { break }
            var wake = open >= limit ? UInt64.max : notBefore
            if let deadline { wake = min(wake, now + UInt64(deadline.remainingMilliseconds) * 1_000_000) }
            if wake == UInt64.max {
                condition.wait()
            } else {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wake &- min(wake, now)) / 1_000_000_000))
            }
        }
        open += 1
        notBefore = max(notBefore, DispatchTime.now().uptimeNanoseconds + delayNanoseconds)
        return true
    }

    func release() {
        condition.lock()
        open = max(0, open - 1)
        condition.broadcast()
        condition.unlock()
    }

    /// Nobody starts a connection for `seconds`.
    func pause(seconds: Double) {
        condition.lock()
        notBefore = max(notBefore, DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds) * 1_000_000_000))
        condition.broadcast()
        condition.unlock()
    }
}
