import FoundationEssentials
import Dispatch
import Glibc
import Synchronization

/// Raised once to end every wait that carries it: a signal, or the run's own deadline.
public final class StopSignal: Sendable {
    private let raised = Atomic<Bool>(false)

    public init() {}

    public func raise() { raised.store(true, ordering: .releasing) }

    public var isRaised: Bool { raised.load(ordering: .acquiring) }
}

/// A point in monotonic time by which a phase must end; a raised `stop` ends it early.
public struct Deadline: Sendable {
    public let uptimeNanoseconds: UInt64
    public let stop: StopSignal?

    /// How long one wait sleeps at most when a stop signal can end it, so a raised signal is seen promptly.
    static let stopSliceMilliseconds: Int32 = 100

    public init(secondsFromNow seconds: Double, stop: StopSignal? = nil) {
        let nanos = UInt64(min(max(0, seconds), 1e9) * 1_000_000_000)
        uptimeNanoseconds = DispatchTime.now().uptimeNanoseconds &+ nanos
        self.stop = stop
    }

    init(uptimeNanoseconds: UInt64, stop: StopSignal? = nil) {
        self.uptimeNanoseconds = uptimeNanoseconds
        self.stop = stop
    }

    /// What one poll may wait: the time left, in slices when a stop signal may end it early.
    public var remainingMilliseconds: Int32 {
        if let stop, stop.isRaised { return 0 }
        let now = DispatchTime.now().uptimeNanoseconds
        guard uptimeNanoseconds > now else { return 0 }
        let left = Int32(min(UInt64(Int32.max), (uptimeNanoseconds - now + 999_999) / 1_000_000))
        return stop == nil ? left : min(left, Self.stopSliceMilliseconds)
    }

    public var secondsRemaining: Double {
        let now = DispatchTime.now().uptimeNanoseconds
        return uptimeNanoseconds > now ? Double(uptimeNanoseconds - now) / 1e9 : 0
    }

    public var hasPassed: Bool { DispatchTime.now().uptimeNanoseconds >= uptimeNanoseconds || (stop?.isRaised ?? false) }

    /// The earlier of this deadline and one `seconds` from now.
    public func capped(atSecondsFromNow seconds: Double) -> Deadline {
        let other = Deadline(secondsFromNow: seconds, stop: stop)
        return other.uptimeNanoseconds < uptimeNanoseconds ? other : self
    }

    /// The earlier of two deadlines, keeping this one's stop signal.
    public func capped(at other: Deadline?) -> Deadline {
        guard let other, other.uptimeNanoseconds < uptimeNanoseconds else { return self }
        return Deadline(uptimeNanoseconds: other.uptimeNanoseconds, stop: stop ?? other.stop)
    }
}

/// Why talking to the server stopped.
public enum ConnectionError: Error, Equatable, CustomStringConvertible {
    case connectFailed(String)
    case timedOut
    case closedByPeer
    case io(String)
    /// This machine ran out of something (file descriptors, memory): no verdict on the server.
    case local(String)

    public var description: String {
        switch self {
        case .connectFailed(let reason): return reason
        case .timedOut: return "timed out"
        case .closedByPeer: return "connection closed by the server"
        case .io(let reason): return reason
        case .local(let reason): return reason
        }
    }
}

func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// A non-blocking TCP socket whose every wait is bounded by a deadline.
public final class TCPConnection {
    public let fd: Int32
    private var closed = false

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit { close() }

    public func close() {
        if !closed {
            closed = true
            Glibc.close(fd)
        }
    }

    /// Connects to an IPv4 or IPv6 address literal.
    public static func connect(address: String, port: UInt16, deadline: Deadline) throws(ConnectionError) -> TCPConnection {
        guard let bytes = IPAddressText.bytes(of: address) else { throw .connectFailed("not an IP address: \(address)") }
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else {
            let code = errno
            if [EMFILE, ENFILE, ENOMEM, ENOBUFS].contains(code) { throw .local("socket: \(errnoText(code))") }
            throw .connectFailed("socket: \(errnoText(code))")
        }
        let connection = TCPConnection(fd: fd)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var noDelay: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))

        var status: Int32
        if family == AF_INET {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: bytes) }
            status = withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) }
            status = withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        if status == 0 { return connection }
        guard errno == EINPROGRESS else { throw .connectFailed(errnoText(errno)) }
        guard try connection.wait(for: Int16(POLLOUT), until: deadline) else { throw .timedOut }
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
        guard soError == 0 else { throw .connectFailed(errnoText(soError)) }
        return connection
    }

    /// Waits until the socket is ready for `events`; false when the deadline passed first.
    public func wait(for events: Int16, until deadline: Deadline) throws(ConnectionError) -> Bool {
        if events & Int16(POLLIN) != 0 { quickAck() }
        while true {
            var pollfd = pollfd(fd: fd, events: events, revents: 0)
            let remaining = deadline.remainingMilliseconds
            let status = poll(&pollfd, 1, remaining)
            if status > 0 { return true }
            if status == 0 {
                if remaining == 0 || deadline.hasPassed { return false }
                continue
            }
            if errno == EINTR { continue }
            throw .io("poll: \(errnoText(errno))")
        }
    }

    public func send(_ bytes: [UInt8], deadline: Deadline) throws(ConnectionError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                offset += sent
                continue
            }
            if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard try wait(for: Int16(POLLOUT), until: deadline) else { throw .timedOut }
                continue
            }
            if sent < 0 && (errno == EPIPE || errno == ECONNRESET) { throw .closedByPeer }
            throw .io("send: \(errnoText(errno))")
        }
    }

    /// Up to `maximum` bytes; an empty array means the server closed the connection.
    public func receive(maximum: Int, deadline: Deadline) throws(ConnectionError) -> [UInt8] {
        while true {
            // Not zeroed first: recv writes the bytes that count, and the pages it does not reach stay untouched.
            var count = 0
            var error: Int32 = 0
            let buffer = [UInt8](unsafeUninitializedCapacity: maximum) { storage, initialized in
                count = recv(fd, storage.baseAddress, maximum, 0)
                error = count < 0 ? errno : 0
                initialized = max(0, count)
            }
            if count >= 0 { return buffer }
            if error == EAGAIN || error == EWOULDBLOCK || error == EINTR {
                guard try wait(for: Int16(POLLIN), until: deadline) else { throw .timedOut }
                continue
            }
            if error == ECONNRESET { throw .closedByPeer }
            throw .io("recv: \(errnoText(error))")
        }
    }

    /// Acknowledge at once rather than after the delayed-ACK timer: a server whose Nagle algorithm holds a
    /// small reply until its previous segment (say a TLS session ticket) is acknowledged would otherwise stall
    /// each such exchange by about 40 ms. Linux clears the flag again by itself, so it is set before each wait.
    func quickAck() {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Bytes waiting on the socket after up to `milliseconds`, without consuming them.
    public func peekPending(waitingMilliseconds milliseconds: Int32, maximum: Int = 4096) -> [UInt8] {
        var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pollfd, 1, milliseconds) > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: maximum) { storage, initialized in
            initialized = max(0, recv(fd, storage.baseAddress, maximum, Int32(MSG_PEEK)))
        }
    }

    /// Consumes exactly `count` bytes already known to be waiting.
    public func discard(_ count: Int) {
        var buffer = [UInt8](repeating: 0, count: count)
        _ = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count, Int32(MSG_DONTWAIT)) }
    }

    /// The local address as an EHLO address literal (`[192.0.2.7]`, `[IPv6:2001:db8::7]`).
    public func localAddressLiteral() -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard status == 0 else { return nil }
        let text = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SystemResolver.socketAddressText($0) }
        }
        guard let text else { return nil }
        return IPAddressText.isIPv6(text) ? "[IPv6:\(text)]" : "[\(text)]"
    }
}
