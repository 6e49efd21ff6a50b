// Prints the published test vectors on standard output, deterministic (fixed seeds, fixed ids,
// fixed clock): the link format's (Tests/Vectors/link-v1.json, docs/link-format.md §9) by
// default, the revocation bundle's (Tests/Vectors/bundle-v1.json, docs/revocation-bundle.md §9)
// with the argument `bundle`.
import AuthorityTesting
import Foundation

let arguments = CommandLine.arguments.dropFirst()
do {
    switch arguments.first {
    case nil, "link": FileHandle.standardOutput.write(try LinkVectors.json())
    case "bundle": FileHandle.standardOutput.write(try BundleVectors.json())
    case "-h", "--help":
        print("Usage: authority-vectors [link|bundle]\nPrints Tests/Vectors/link-v1.json (default) or Tests/Vectors/bundle-v1.json.")
    default:
        FileHandle.standardError.write(Data("authority-vectors: unknown argument \(arguments.first!) (link or bundle; see --help)\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("authority-vectors: \(error)\n".utf8))
    exit(1)
}
