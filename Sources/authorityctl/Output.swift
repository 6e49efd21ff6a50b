import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writing to stdout and stderr. Results go to stdout (so `$(authorityctl issue …)` captures only
/// the link); diagnostics go to stderr.
enum Output {
    /// One line on stdout.
    static func line(_ text: String = "") {
        print(text)
    }

    /// Several lines on stdout.
    static func lines(_ texts: [String]) {
        for text in texts { print(text) }
    }

    /// An answer body exactly as the daemon sent it, ending with a newline.
    static func raw(_ body: Data) {
        var text = String(decoding: body, as: UTF8.self)
        if !text.hasSuffix("\n") { text += "\n" }
        print(text, terminator: "")
    }

    /// One line on stderr.
    static func error(_ text: String) {
        fflush(nil)
        writeAll(2, Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Bytes on stdout as they are (a binary bundle), after anything printed before.
    static func bytes(_ data: Data) {
        fflush(nil)
        writeAll(1, Array(data))
    }

    /// `write(2)` until every byte is written; false when the descriptor fails (`errno` says why).
    @discardableResult
    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}

/// Ends the process with `status` once stdout is flushed.
func terminate(_ status: Int32) -> Never {
    fflush(nil)
    Glibc.exit(status)
}
