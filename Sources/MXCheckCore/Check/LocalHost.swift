import FoundationEssentials
import Glibc

public enum LocalHost {
    /// The machine's FQDN for EHLO when it is a dotted name (no DNS wait: gethostname only); nil otherwise,
    /// and the checker then uses the local address literal.
    public static func ehloName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard name.contains("."), !name.hasSuffix(".localdomain"), Target.isValidHostName(name) else { return nil }
        return name
    }
}
