import FoundationEssentials
import Dispatch
import Glibc

/// Which address families to check.
public enum AddressFamilyFilter: Sendable {
    case any
    case ipv4Only
    case ipv6Only

    func admits(_ address: String) -> Bool {
        switch self {
        case .any: return true
        case .ipv4Only: return IPAddressText.isIPv4(address)
        case .ipv6Only: return IPAddressText.isIPv6(address)
        }
    }
}

public enum ResolutionError: Error, Equatable, CustomStringConvertible {
    case notFound(host: String, reason: String)
    case noAddressInFamily(host: String)
    case timeout(host: String, seconds: Double)

    public var description: String {
        switch self {
        case .notFound(let host, let reason):
            return "cannot resolve '\(host)': \(reason); check the spelling, or give an IP address"
        case .noAddressInFamily(let host):
            return "'\(host)' has no address in the requested family (-4/-6)"
        case .timeout(let host, let seconds):
            return "resolving '\(host)' did not finish within \(Int(seconds)) s; check the resolver, or give an IP address"
        }
    }
}

/// Host names through the system resolver (getaddrinfo: /etc/hosts honoured), bounded in time.
public enum SystemResolver {
    /// The addresses of a target, A and AAAA, in the resolver's order without duplicates.
    public static func addresses(of target: Target, family: AddressFamilyFilter, timeout: Double) throws(ResolutionError) -> [String] {
        try addresses(of: target, family: family, deadline: Deadline(secondsFromNow: timeout), timeout: timeout)
    }

    /// `timeout` is what messages say the bound was; `deadline` (and its stop signal) ends the wait.
    public static func addresses(of target: Target, family: AddressFamilyFilter, deadline: Deadline, timeout: Double) throws(ResolutionError) -> [String] {
        let all: [String]
        switch target.host {
        case .ipv4(let address), .ipv6(let address):
            all = [address]
        case .name(let name):
            all = try lookup(name, deadline: deadline, timeout: timeout)
        }
        let admitted = all.filter { family.admits($0) }
        guard !admitted.isEmpty else { throw .noAddressInFamily(host: target.hostText) }
        return admitted
    }

    private final class Outcome: @unchecked Sendable {
        let lock = MutexLock()
        var result: Result<[String], ResolutionError>?
    }

    /// getaddrinfo has no time bound of its own: it runs on its own thread and is abandoned at the deadline.
    static func lookup(_ name: String, deadline: Deadline, timeout: Double) throws(ResolutionError) -> [String] {
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        DetachedThread.start(stackSize: 256 * 1024) {
            let result = getAddresses(name)
            outcome.lock.withLock { outcome.result = result }
            done.signal()
        }
        while done.wait(timeout: .now() + .milliseconds(Int(max(1, deadline.remainingMilliseconds)))) == .timedOut {
            if deadline.hasPassed { throw .timeout(host: name, seconds: timeout) }
        }
        let result = outcome.lock.withLock { outcome.result }
        switch result {
        case .success(let addresses): return addresses
        case .failure(let error): throw error
        case nil: throw .timeout(host: name, seconds: timeout)
        }
    }

    private static func getAddresses(_ name: String) -> Result<[String], ResolutionError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0, let first = list else {
            let reason = status == EAI_NONAME || status == -5 ? "no such host" : String(cString: gai_strerror(status))
            return .failure(.notFound(host: name, reason: reason))
        }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let text = socketAddressText(entry.pointee.ai_addr), !addresses.contains(text) {
                addresses.append(text)
            }
            cursor = entry.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(.notFound(host: name, reason: "no address")) : .success(addresses)
    }

    static func socketAddressText(_ address: UnsafeMutablePointer<sockaddr>?) -> String? {
        guard let address else { return nil }
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                withUnsafeBytes(of: v4.pointee.sin_addr) { IPAddressText.text(of: Array($0)) }
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                withUnsafeBytes(of: v6.pointee.sin6_addr) { IPAddressText.text(of: Array($0)) }
            }
        default:
            return nil
        }
    }
}

/// One address and port to check, with what the check needs to know about its origin.
public struct Endpoint: Sendable, Equatable {
    /// The host as the user named it (a name or the IP literal).
    public var host: String
    public var address: String
    public var port: UInt16
    /// starttls or implicit, never auto.
    public var tls: TLSMode
    /// The name sent as SNI: nil for IP-literal targets without --servername.
    public var serverName: String?
    /// The identity checked against the certificate: a DNS name or an IP address.
    public var referenceIdentity: String

    public init(host: String, address: String, port: UInt16, tls: TLSMode, serverName: String?, referenceIdentity: String) {
        self.host = host
        self.address = address
        self.port = port
        self.tls = tls
        self.serverName = serverName
        self.referenceIdentity = referenceIdentity
    }

    /// The endpoints of a target: one per address, with SNI and identity as the contract says.
    public static func endpoints(for target: Target, addresses: [String], tls: TLSMode, servername: String?) -> [Endpoint] {
        let mode = tls.resolved(forPort: target.port)
        let givenName = servername.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }.map { $0.lowercased() }
        let sni = givenName ?? (target.isIPLiteral ? nil : target.hostText)
        let identity = givenName ?? target.hostText
        return addresses.map {
            Endpoint(host: target.hostText, address: $0, port: target.port, tls: mode, serverName: sni, referenceIdentity: identity)
        }
    }
}
