/// `-v` lines: each tagged with its connection (`[1]`, `[2 injection]`, `[probe 17]`); a reply of several
/// lines is handed over as one block, so a reader writing each block at once never interleaves it.
public enum Transcript {
    public static let mainConnection = "[1]"
    public static let injectionConnection = "[2 injection]"

    public static func probeConnection(_ number: Int) -> String { "[probe \(number)]" }

    /// Every line of `block` with the tag in front.
    public static func tagged(_ tag: String, _ block: String) -> String {
        block.split(separator: "\n", omittingEmptySubsequences: false).map { "\(tag) \($0)" }.joined(separator: "\n")
    }

    /// One line for a probe connection: what was offered, what came back.
    static func probeLine(_ hello: ClientHello, reply: Result<ProbeReply, DialogFailure>) -> String {
        var offered = "C: \(hello.version.rawValue) hello, \(hello.suites.count) suite\(hello.suites.count == 1 ? "" : "s")"
        if !hello.groups.isEmpty { offered += ", groups \(hello.groups.prefix(4).map(\.name).joined(separator: ","))\(hello.groups.count > 4 ? ",..." : "")" }
        let answer: String
        switch reply {
        case .success(.answer(.hello(let server))):
            let suite = CipherSuite.tls(code: server.cipherSuite).map(\.name) ?? String(cFormat: "0x%04X", server.cipherSuite)
            let version = server.version?.rawValue ?? String(cFormat: "0x%04X", server.negotiatedVersion)
            answer = server.isHelloRetryRequest
                ? "HelloRetryRequest\(server.keyShareGroup.map { ", group \(NamedGroup.code($0)?.name ?? String(cFormat: "0x%04X", $0))" } ?? "")"
                : "ServerHello \(version) \(suite)"
        case .success(.answer(.alert(let alert))): answer = "alert \(alert)"
        case .success(.answer(.sslv2Hello(let server))): answer = "SSLv2 SERVER-HELLO, \(server.cipherKinds.count) cipher kinds"
        case .success(.answer(.sslv2Error(let code))): answer = String(cFormat: "SSLv2 ERROR 0x%04X", code)
        case .success(.closed): answer = "closed"
        case .success(.timedOut): answer = "no answer in time"
        case .success(.unreadable(let error)): answer = "unreadable: \(error)"
        case .failure(let failure): answer = "no hello sent: \(Prober.describe(failure))"
        }
        return "\(offered); S: \(answer)"
    }
}
