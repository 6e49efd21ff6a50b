import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Files named on the command line. Any trouble with one is the caller's to mend (a path, a
/// permission): a one-line failure with the usage status, as for a bad option.
enum Files {
    /// The whole file.
    static func read(_ path: String) throws(Failure) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot read", path) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure("cannot read", path) }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    /// `verb path: strerror(errno)`, exit 2.
    static func failure(_ verb: String, _ path: String, errno code: Int32 = errno) -> Failure {
        Failure(message: "\(verb) \(path): \(String(cString: strerror(code)))", status: .usage)
    }
}

/// A file written whole or not at all: the bytes go to a temporary file beside it, synced, then
/// renamed over it, so an edge that reads the file never sees half a bundle.
final class AtomicFile {
    let path: String
    private var temporary: String?
    private var descriptor: Int32 = -1

    /// Creates the temporary file at once, so that a directory that cannot take the file fails
    /// before anything is asked of the daemon.
    init(_ path: String) throws(Failure) {
        self.path = path
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw Files.failure("cannot write", path) }
        temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes `bytes` with mode 0644 (a bundle and a JWK set are public) and puts the file in place.
    func commit(_ bytes: Data) throws(Failure) {
        guard let temporary else { return }
        defer { discard() }
        guard Output.writeAll(descriptor, Array(bytes)), fchmod(descriptor, 0o644) == 0, fsync(descriptor) == 0,
            rename(temporary, path) == 0
        else { throw Files.failure("cannot write", path) }
        self.temporary = nil
    }

    /// Removes the temporary file of a write that did not complete; nothing after `commit`.
    func discard() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
        if let temporary {
            unlink(temporary)
            self.temporary = nil
        }
    }

    deinit { discard() }
}
