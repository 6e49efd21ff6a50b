import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// A duration: `90s`, `15m`, `1h`, `7d`, combinations such as `1h30m`, or plain seconds (`900`).
struct DurationArgument: ExpressibleByArgument, Sendable {
    var seconds: Int64

    init(seconds: Int64) { self.seconds = seconds }

    init?(argument: String) {
        guard let seconds = Self.parse(argument), seconds > 0 else { return nil }
        self.seconds = seconds
    }

    var defaultValueDescription: String { Format.span(seconds).replacingSpaces() }

    static func parse(_ text: String) -> Int64? {
        if let plain = Int64(text), text.allSatisfy(\.isASCII) { return plain }
        var total: Int64 = 0
        var digits = ""
        var sawUnit = false
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            let size: Int64
            switch character {
            case "s": size = 1
            case "m": size = 60
            case "h": size = 3_600
            case "d": size = 86_400
            case "w": size = 604_800
            default: return nil
            }
            guard let count = Int64(digits), digits.count <= 12 else { return nil }
            // 12 digits of weeks fit; a sum of many of them may not.
            let (sum, overflow) = total.addingReportingOverflow(count * size)
            guard !overflow else { return nil }
            total = sum
            digits = ""
            sawUnit = true
        }
        return sawUnit && digits.isEmpty ? total : nil
    }
}

/// A point in time: RFC 3339 (`2026-12-01T10:00:00Z`, `2026-12-01T11:00:00+01:00`) or Unix
/// seconds (`1795000000`).
struct TimeArgument: ExpressibleByArgument, Sendable {
    var unixSeconds: Int64

    init?(argument: String) {
        guard let seconds = Self.parse(argument) else { return nil }
        unixSeconds = seconds
    }

    static func parse(_ text: String) -> Int64? {
        if !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) { return Int64(text) }
        return rfc3339(text)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`, `z` and a space for `T` are accepted.
    static func rfc3339(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + width] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += width
            return value
        }
        func expect(_ allowed: String) -> Bool {
            guard index < bytes.count, allowed.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            guard index > start else { return nil }
        }
        var offset = 0
        if expect("Zz") {
            offset = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(2), expect(":"), let minutes = number(2), hours < 24, minutes < 60 else {
                return nil
            }
            offset = sign * (hours * 3_600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second <= 60
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(min(second, 59))
        let seconds = Int64(timegm(&parts))
        // timegm normalises 31 February into March; refuse dates that do not exist.
        guard parts.tm_mday == Int32(day), parts.tm_mon == Int32(month - 1) else { return nil }
        return seconds - Int64(offset)
    }
}

extension String {
    fileprivate func replacingSpaces() -> String { split(separator: " ").joined() }
}
