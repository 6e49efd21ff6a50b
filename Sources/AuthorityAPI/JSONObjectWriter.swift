/// One flat JSON object written by hand, for the hottest answers: `JSONEncoder` costs about as
/// much as everything else around a signature check. `WireFields.handWrittenJSON(_:)` drives it from
/// a type's field table, members sorted by name; the bytes must be exactly `JSONEncoder`'s with the
/// daemon's options (sorted members, absent values as `null`, slashes unescaped), and a test holds
/// every table-declared answer to that.
struct JSONObjectWriter {
    private var text: [UInt8] = [UInt8(ascii: "{")]

    init(capacity: Int = 256) { text.reserveCapacity(capacity) }

    /// Starts a member; `quotedName` is `"name":`, escaped once when the table was built.
    mutating func name(_ quotedName: [UInt8]) {
        if text.count > 1 { text.append(UInt8(ascii: ",")) }
        text += quotedName
    }

    mutating func null() { text += "null".utf8 }

    mutating func string(_ value: String) { JSONText.append(value, to: &text) }

    mutating func integer(_ value: some BinaryInteger) { text += String(value).utf8 }

    mutating func bool(_ value: Bool) { text += (value ? "true" : "false").utf8 }

    mutating func strings(_ value: [String]) {
        text.append(UInt8(ascii: "["))
        for (index, element) in value.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            JSONText.append(element, to: &text)
        }
        text.append(UInt8(ascii: "]"))
    }

    consuming func finish() -> [UInt8] {
        text.append(UInt8(ascii: "}"))
        return text
    }
}

/// JSON values as `JSONEncoder` writes them with `.withoutEscapingSlashes`.
enum JSONText {
    static func append(_ value: String, to text: inout [UInt8]) {
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

    /// `"name":`, the start of a member.
    static func quotedName(_ name: String) -> [UInt8] {
        var text: [UInt8] = []
        append(name, to: &text)
        text.append(UInt8(ascii: ":"))
        return text
    }
}
