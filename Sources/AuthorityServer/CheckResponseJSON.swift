import AuthorityAPI
import NIOCore
import NIOHTTP1

extension APIResponse {
    /// The check answer, written by hand: it is the hottest answer the daemon gives, and
    /// `JSONEncoder` costs about as much as everything else around the signature check. The bytes
    /// are exactly `json(answer)`'s (sorted members, absent values as `null`, slashes unescaped);
    /// a test holds the two together.
    static func json(check answer: CheckLinkResponse) -> APIResponse {
        var object = JSONObjectWriter(capacity: 160 + (answer.detail?.utf8.count ?? 0) + (answer.cookie?.utf8.count ?? 0))
        object.member("cookie", answer.cookie)
        object.member("cookie_expires_at", answer.cookieExpiresAt)
        object.member("detail", answer.detail)
        object.member("epoch", answer.epoch)
        object.member("expires_at", answer.expiresAt)
        object.member("id", answer.id)
        object.member("reason", answer.reason)
        object.member("remaining_uses", answer.remainingUses)
        object.member("valid", answer.valid)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return APIResponse(status: .ok, headers: headers, body: ByteBuffer(bytes: object.finish()))
    }
}

/// One flat JSON object, members in the order given (sort them to match `.sortedKeys`).
struct JSONObjectWriter {
    private var text: [UInt8] = [UInt8(ascii: "{")]

    init(capacity: Int) { text.reserveCapacity(capacity) }

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
