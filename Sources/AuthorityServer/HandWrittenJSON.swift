import AuthorityAPI
import NIOCore
import NIOHTTP1

/// An answer written to JSON by hand, for the hottest routes: `JSONEncoder` costs about as much
/// as everything else around a signature check. The bytes must be exactly `JSONEncoder`'s with
/// the daemon's options (sorted members, absent values as `null`, slashes unescaped); a test
/// holds each conforming type to that.
protocol HandWrittenJSON {
    func writeJSON(into object: inout JSONObjectWriter)
}

extension CheckLinkResponse: HandWrittenJSON {
    func writeJSON(into object: inout JSONObjectWriter) {
        object.member("cookie", cookie)
        object.member("cookie_expires_at", cookieExpiresAt)
        object.member("detail", detail)
        object.member("epoch", epoch)
        object.member("expires_at", expiresAt)
        object.member("id", id)
        object.member("reason", reason)
        object.member("remaining_uses", remainingUses)
        object.member("valid", valid)
    }
}

extension IssueLinkResponse: HandWrittenJSON {
    func writeJSON(into object: inout JSONObjectWriter) {
        object.member("epoch", epoch)
        object.member("expires_at", expiresAt)
        object.member("id", id)
        object.member("methods", methods)
        object.member("not_before", notBefore)
        object.member("url", url)
    }
}

extension RevocationEntry: HandWrittenJSON {
    func writeJSON(into object: inout JSONObjectWriter) {
        object.member("created_at", createdAt)
        object.member("created_by_uid", createdByUID)
        object.member("id", id)
        object.member("issued_before", issuedBefore)
        object.member("kind", kind)
        object.member("prefix", prefix)
        object.member("reason", reason)
        object.member("serial", serial)
    }
}

/// One flat JSON object, members in the order given (sort them to match `.sortedKeys`).
struct JSONObjectWriter {
    private var text: [UInt8] = [UInt8(ascii: "{")]

    init(capacity: Int = 256) { text.reserveCapacity(capacity) }

    private mutating func name(_ name: String) {
        if text.count > 1 { text.append(UInt8(ascii: ",")) }
        JSONText.append(name, to: &text)
        text.append(UInt8(ascii: ":"))
    }

    mutating func member(_ name: String, _ value: String?) {
        self.name(name)
        JSONText.append(value, to: &text)
    }

    mutating func member(_ name: String, _ value: (some BinaryInteger)?) {
        self.name(name)
        JSONText.append(value, to: &text)
    }

    mutating func member(_ name: String, _ value: [String]) {
        self.name(name)
        text.append(UInt8(ascii: "["))
        for (index, element) in value.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            JSONText.append(element, to: &text)
        }
        text.append(UInt8(ascii: "]"))
    }

    mutating func member(_ name: String, _ value: Bool) {
        self.name(name)
        text += (value ? "true" : "false").utf8
    }

    consuming func finish() -> [UInt8] {
        text.append(UInt8(ascii: "}"))
        return text
    }
}

/// JSON values as `JSONEncoder` writes them with `.withoutEscapingSlashes`.
enum JSONText {
    static func append(_ value: String?, to text: inout [UInt8]) {
        guard let value else { return text += "null".utf8 }
        text.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): text += #"\""#.utf8
            case UInt8(ascii: "\\"): text += #"\\"#.utf8
            case 0x08: text += #"\b"#.utf8
            case 0x0C: text += #"\f"#.utf8
            case 0x0A: text += #"\n"#.utf8
            case 0x0D: text += #"\r"#.utf8
            case 0x09: text += #"\t"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                text += #"\u00"#.utf8
                text.append(hex[Int(byte >> 4)])
                text.append(hex[Int(byte & 0x0F)])
            default: text.append(byte)
            }
        }
        text.append(UInt8(ascii: "\""))
    }

    static func append(_ value: (some BinaryInteger)?, to text: inout [UInt8]) {
        guard let value else { return text += "null".utf8 }
        text += String(value).utf8
    }
}
