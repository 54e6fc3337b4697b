import FoundationEssentials
import Glibc

/// RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 that trace fields still carry: no day of the week,
/// two-digit years, named zones (GMT, UT, EST...), extra white space, a zone comment after it.
enum MailDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let zones: [String: Int] = [
        "UT": 0, "GMT": 0, "UTC": 0, "Z": 0, "EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
        "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    ]

    /// The date at the start of these words (the words after a Received field's last `;`, comments left out),
    /// and how many words it took; nil when they do not start with a valid date.
    static func parse(_ words: [String]) -> (date: Date, wordsUsed: Int)? {
        // Words split further at commas: "Tue," "1" or "Tue,1".
        var parts: [(text: Substring, word: Int)] = []
        for (index, word) in words.prefix(12).enumerated() {
            for piece in word.split(separator: ",") where !piece.isEmpty { parts.append((piece, index)) }
        }
        var position = 0
        func next() -> Substring? {
            guard position < parts.count else { return nil }
            defer { position += 1 }
            return parts[position].text
        }
        guard var token = next() else { return nil }
        if token.count >= 3, token.first?.isLetter == true {
            token = next() ?? ""
        }
        guard token.count <= 2, let day = Int(token), (1...31).contains(day) else { return nil }
        guard let monthText = next(), let month = months.firstIndex(of: monthText.lowercased()) else { return nil }
        guard let yearText = next(), yearText.allSatisfy(\.isNumber), var year = Int(yearText) else { return nil }
        switch yearText.count {
        case 2: year += year < 50 ? 2000 : 1900
        case 3: year += 1900
        case 4: break
        default: return nil
        }
        guard let timeText = next() else { return nil }
        let clock = timeText.split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 2 || clock.count == 3, clock.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isNumber) }),
              let hour = Int(clock[0]), let minute = Int(clock[1]), hour < 24, minute < 60 else { return nil }
        let second = clock.count == 3 ? Int(clock[2]) ?? 99 : 0
        guard second <= 60 else { return nil }
        guard let zoneText = next() else { return nil }
        let offsetMinutes: Int
        if let sign = zoneText.first, sign == "+" || sign == "-", zoneText.count == 5, zoneText.dropFirst().allSatisfy(\.isNumber),
           let value = Int(zoneText.dropFirst()) {
            let minutes = (value / 100) * 60 + value % 100
            guard value % 100 < 60 else { return nil }
            offsetMinutes = sign == "-" ? -minutes : minutes
        } else if let named = zones[zoneText.uppercased()] {
            offsetMinutes = named
        } else if zoneText.count == 1, zoneText.first?.isLetter == true {
            offsetMinutes = 0  // military zones: RFC 5322 §4.3 says to read them as -0000
        } else {
            return nil
        }
        guard day <= daysIn(month: month + 1, year: year) else { return nil }
        let days = daysFromCivil(year: year, month: month + 1, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + min(second, 59) - offsetMinutes * 60
        let used = parts[position - 1].word + 1
        return (Date(timeIntervalSince1970: TimeInterval(seconds)), used)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
