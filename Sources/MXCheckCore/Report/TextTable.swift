import FoundationEssentials
import Glibc

/// Many endpoints at a glance: one line each, aligned for a terminal of 100 columns.
extension TextReport {
    /// Column widths: status, host, address:port, TLS version, days left, score; the worst finding id takes the rest.
    static let tableWidths = [8, 26, 23, 7, 5, 5]

    /// The table of some objects: a header line, then one line per object in the order given.
    public func table(_ objects: [ReportObject]) -> String {
        let header = Self.row(["STATUS", "HOST", "ADDRESS:PORT", "TLS", "DAYS", "SCORE", "WORST"])
        return ([header] + objects.map(tableLine)).joined(separator: "\n")
    }

    /// Whether an object needs its full block below the table: anything that is not OK.
    public static func needsDetail(_ object: ReportObject) -> Bool { object.status != .ok }

    func tableLine(_ object: ReportObject) -> String {
        let status: Status, host: String, place: String, tls: String, days: String, score: String, worst: String
        switch object {
        case .endpoint(let report):
            let endpoint = report.observation.endpoint
            status = report.status
            host = endpoint.host
            place = Self.place(endpoint.address, endpoint.port)
            tls = report.observation.tls.map { $0.version.rawValue.replacing("TLSv", with: "TLS ") } ?? "-"
            days = report.observation.chain.first.map { String(Rules.daysRemaining($0, now: report.now)) } ?? "-"
            score = report.score.map(String.init) ?? "-"
            worst = report.findings.first { $0.severity != .info }?.id.rawValue ?? "-"
        case .unchecked(let report):
            status = report.status
            host = report.target?.host ?? report.domain ?? report.input
            place = report.target.map { target in target.address.map { Self.place($0, target.port) } ?? "port \(target.port)" } ?? "-"
            tls = "-"
            days = "-"
            score = report.score.map(String.init) ?? "-"
            worst = report.findings.first?.id.rawValue ?? "-"
        }
        let plain = Self.row([status.rawValue.uppercased(), safe(host), place, tls, days, score, worst])
        // Colour only the status word, after padding, so the columns stay aligned.
        let word = status.rawValue.uppercased()
        return colour ? label(status) + plain.dropFirst(word.count) : plain
    }

    static func place(_ address: String, _ port: UInt16) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// Cells padded (or cut, with a final ~) to their widths, two spaces apart; the last cell as it is.
    static func row(_ cells: [String]) -> String {
        var line = ""
        for (index, cell) in cells.enumerated() {
            guard index < tableWidths.count else {
                line += cell
                break
            }
            let width = tableWidths[index]
            let fitted = cell.count > width ? String(cell.prefix(width - 1)) + "~" : cell
            line += fitted.padded(toWidth: width) + " "
        }
        return line
    }
}
