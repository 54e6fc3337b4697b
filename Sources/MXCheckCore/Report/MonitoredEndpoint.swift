import FoundationEssentials
import Glibc

/// What the monitoring renderers (Nagios, Prometheus) read from one schema-version-2 JSON object: an endpoint,
/// or a target answered without one. Read from the JSON, not from the run's report types, so the renderers
/// serve any run that writes the contract's objects (a live run or one read back with --resume).
/// A field missing or of the wrong type reads as nil; nothing here traps on odd input.
struct MonitoredEndpoint: Sendable, Equatable {
    /// The contract's status words, ranked CRITICAL > UNKNOWN > WARNING > OK.
    enum Status: Int, Sendable, Comparable, CaseIterable {
        case ok, warning, unknown, critical

        /// An absent or unrecognised status reads as unknown: the check's result cannot be told.
        init(json: String?) {
            switch json {
            case "ok": self = .ok
            case "warning": self = .warning
            case "critical": self = .critical
            default: self = .unknown
            }
        }

        /// The monitoring-plugin exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
        var exitCode: Int {
            switch self {
            case .ok: return 0
            case .warning: return 1
            case .critical: return 2
            case .unknown: return 3
            }
        }

        var word: String {
            switch self {
            case .ok: return "OK"
            case .warning: return "WARNING"
            case .critical: return "CRITICAL"
            case .unknown: return "UNKNOWN"
            }
        }

        static func < (lhs: Status, rhs: Status) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    struct Finding: Sendable, Equatable {
        var id: String
        var severity: String
        var message: String
        var fix: String

        /// critical > unknown > warning > info; an unrecognised severity ranks lowest.
        var rank: Int {
            switch severity {
            case "critical": return 3
            case "unknown": return 2
            case "warning": return 1
            default: return 0
            }
        }
    }

    struct TLS: Sendable, Equatable {
        var version: String?
        var cipher: String?
        var group: String?
    }

    var input: String?
    var domain: String?
    /// target.host, else the MX host, else the input as given (an invalid target), else the domain.
    var host: String
    var address: String?
    var port: Int?
    var status: Status
    var score: Double?
    var daysRemaining: Double?
    /// certificate.notAfter in seconds since the Unix epoch.
    var notAfter: Double?
    var tls: TLS?
    var findings: [Finding]
    var totalMilliseconds: Double?
    var connections: Double?
    /// checkedAt in seconds since the Unix epoch.
    var checkedAt: Double?
    var banner: String?

    init(_ object: JSONValue) {
        input = object[member: "input"].text
        domain = object[member: "domain"].text
        let target = object[member: "target"]
        host = target[member: "host"].text ?? object[member: "mx"][member: "host"].text ?? input ?? domain ?? ""
        address = target[member: "address"].text
        port = target[member: "port"].numeric.flatMap { $0 == $0.rounded() && abs($0) < 1e9 ? Int($0) : nil }
        status = Status(json: object[member: "status"].text)
        score = object[member: "score"].numeric
        daysRemaining = object[member: "certificate"][member: "daysRemaining"].numeric
        notAfter = object[member: "certificate"][member: "notAfter"].text.flatMap(RFC3339.seconds)
        let session = object[member: "tls"]
        if case .object = session {
            tls = TLS(version: session[member: "version"].text, cipher: session[member: "cipher"].text, group: session[member: "group"].text)
        }
        findings = object[member: "findings"].items.map { finding in
            Finding(id: finding[member: "id"].text ?? "", severity: finding[member: "severity"].text ?? "",
                    message: finding[member: "message"].text ?? "", fix: finding[member: "fix"].text ?? "")
        }
        totalMilliseconds = object[member: "timings"][member: "totalMs"].numeric
        connections = object[member: "connections"].numeric
        checkedAt = object[member: "checkedAt"].text.flatMap(RFC3339.seconds)
        banner = object[member: "smtp"][member: "banner"].text
    }

    /// The first of the most severe findings, whatever its severity.
    var worstFinding: Finding? {
        var worst: Finding?
        for finding in findings where worst == nil || finding.rank > worst!.rank { worst = finding }
        return worst
    }

    /// The server greeted: its banner is a 220 reply.
    var greeted: Bool { banner?.hasPrefix("220") ?? false }
}

// File-private, so these readers cannot clash with accessors the JSON report may grow.
fileprivate extension JSONValue {
    /// A member of an object; `.null` for anything else, so lookups chain through missing levels.
    subscript(member key: String) -> JSONValue {
        if case .object(let members) = self { return members[key] ?? .null }
        return .null
    }

    var text: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An integer or a finite double.
    var numeric: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value.isFinite ? value : nil
        default: return nil
        }
    }

    var items: [JSONValue] {
        if case .array(let values) = self { return values }
        return []
    }
}

/// RFC 3339 date-times as mxcheck writes them (`2026-12-30T00:00:00Z`), plus fractional seconds and numeric
/// offsets, since an object may come back from a file another version wrote.
enum RFC3339 {
    /// Seconds since the Unix epoch, or nil when the text is no RFC 3339 date-time.
    static func seconds(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 40 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<(start + count)] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        func byte(_ index: Int, is expected: Character...) -> Bool {
            index < bytes.count && expected.contains { $0.asciiValue == bytes[index] }
        }
        guard let year = digits(0, 4), byte(4, is: "-"), let month = digits(5, 2), byte(7, is: "-"),
              let day = digits(8, 2), byte(10, is: "T", "t", " "), let hour = digits(11, 2), byte(13, is: ":"),
              let minute = digits(14, 2), byte(16, is: ":"), let second = digits(17, 2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        var index = 19
        var fraction = 0.0
        if byte(index, is: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                fraction += Double(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        if byte(index, is: "Z", "z") {
            index += 1
        } else if byte(index, is: "+", "-") {
            guard let offsetHour = digits(index + 1, 2), byte(index + 3, is: ":"), let offsetMinute = digits(index + 4, 2),
                  offsetHour <= 23, offsetMinute <= 59 else { return nil }
            offset = (offsetHour * 60 + offsetMinute) * 60 * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + min(second, 59) - offset
        return Double(seconds) + fraction
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
