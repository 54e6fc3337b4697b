/// The kind of a certificate's public key. `name` is its spelling in JSON (`keyType`) and text.
public enum PublicKeyType: Sendable, Hashable, CustomStringConvertible {
    case rsa, ec, ed25519, ed448, dsa
    /// Any other kind, by OpenSSL's name for it; "unknown" when the certificate's key could not be read.
    case other(String)

    public var name: String {
        switch self {
        case .rsa: return "RSA"
        case .ec: return "EC"
        case .ed25519: return "Ed25519"
        case .ed448: return "Ed448"
        case .dsa: return "DSA"
        case .other(let name): return name
        }
    }

    public var description: String { name }
}
