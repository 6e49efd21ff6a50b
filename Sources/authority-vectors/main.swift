// Prints the link format's test vectors (Tests/Vectors/link-v1.json) on standard output.
// Deterministic: fixed seeds, fixed ids, fixed clock. See docs/link-format.md §9.
import AuthorityTesting
import Foundation

do {
    let json = try LinkVectors.json()
    FileHandle.standardOutput.write(json)
} catch {
    FileHandle.standardError.write(Data("authority-vectors: \(error)\n".utf8))
    exit(1)
}
