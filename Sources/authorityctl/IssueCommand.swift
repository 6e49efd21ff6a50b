import ArgumentParser
import AuthorityAPI
import Foundation

/// `authorityctl issue RESOURCE …`: prints only the link, so `$(authorityctl issue …)` works.
struct Issue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue a signed link for a resource and print it (POST /v1/links).",
        discussion: """
            Prints only the link on stdout (with --json, the API's answer). The lifetime is --ttl \
            (default 15m) or --expires-at, not both.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Absolute http(s):// URL or absolute path, percent-encoded.")
    var resource: String

    @Option(help: ArgumentHelp("Lifetime: 90s, 15m, 1h, 7d, or seconds (default 15m).", valueName: "duration"))
    var ttl: DurationArgument?

    @Option(help: ArgumentHelp("Expiry: RFC 3339 or Unix seconds (instead of --ttl).", valueName: "time"))
    var expiresAt: TimeArgument?

    @Option(help: ArgumentHelp("Not valid before: RFC 3339 or Unix seconds.", valueName: "time"))
    var notBefore: TimeArgument?

    @Option(
        name: .customLong("method"),
        help: ArgumentHelp(
            "An allowed method (repeatable): GET, HEAD, PUT, POST, DELETE (default GET and HEAD).",
            valueName: "method"))
    var methods: [String] = []

    @Flag(help: "A prefix link: valid for every path under the resource's path.")
    var prefix = false

    @Option(help: ArgumentHelp("Bind the link to a client address or network (203.0.113.0/24).", valueName: "cidr"))
    var ip: String?

    @Flag(help: "Bind the link to the resource URL's host (needs an absolute URL).")
    var bindHost = false

    @Option(help: ArgumentHelp("A use-limited link: at most N successful checks.", valueName: "n"))
    var maxUses: Int64?

    @Flag(help: "Read a password for the link from the first line of stdin.")
    var passwordStdin = false

    @Flag(help: "A prefix link a browser can follow: its first answer sets a grant cookie (needs --prefix).")
    var cookie = false

    @Option(
        name: .customLong("origin"),
        help: ArgumentHelp(
            "An origin whose pages may read what the link grants (repeatable, at most 8): https://app.example.",
            valueName: "origin"))
    var origins: [String] = []

    @Option(help: ArgumentHelp(
        "Your own reference for the link (1 to 128 visible ASCII characters), shown in its state and the audit log.",
        valueName: "ref"))
    var ref: String?

    @Flag(help: "Print the prefix link's path-carried form (/~au/<token>/<prefix>) instead, for players.")
    var pathForm = false

    func validate() throws {
        if ttl != nil, expiresAt != nil { throw ValidationError("give --ttl or --expires-at, not both") }
        if let maxUses, maxUses < 1 { throw ValidationError("--max-uses must be at least 1") }
        if cookie, !prefix { throw ValidationError("--cookie needs --prefix: a grant cookie covers a path prefix") }
        if pathForm, !prefix { throw ValidationError("--path-form needs --prefix: only a prefix link has a path-carried form") }
        if origins.count > 8 { throw ValidationError("--origin: at most 8 origins") }
        let allowed: Set = ["GET", "HEAD", "PUT", "POST", "DELETE"]
        for method in methods where !allowed.contains(method.uppercased()) {
            throw ValidationError("--method \(method): not one of GET, HEAD, PUT, POST, DELETE")
        }
    }

    func run() async throws {
        var request = IssueLinkRequest(resource: resource)
        if let expiresAt {
            request.expiresAt = expiresAt.unixSeconds
        } else {
            request.ttl = (ttl ?? DurationArgument(seconds: 900)).seconds
        }
        request.notBefore = notBefore?.unixSeconds
        request.methods = methods.isEmpty ? nil : methods.map { $0.uppercased() }
        request.prefix = prefix ? true : nil
        request.ip = ip
        request.bindHost = bindHost ? true : nil
        request.maxUses = maxUses
        if passwordStdin { request.password = try PasswordInput.readLine() }
        request.cookie = cookie ? true : nil
        request.origins = origins.isEmpty ? nil : origins
        request.ref = ref

        let client = global.client
        let answer = try await client.request(.POST, "/v1/links", json: request, success: 201)
        if global.json { return Output.raw(answer.body) }
        let issued = try client.decode(IssueLinkResponse.self, answer, "POST /v1/links")
        guard pathForm else { return Output.line(issued.url) }
        guard let pathURL = issued.pathURL else {
            throw Failure(message: "the daemon gave no path-carried form for this link (prefix too long?)", status: .apiError)
        }
        Output.line(pathURL)
    }
}

/// `--password-stdin`: the first line of stdin, without its line ending.
enum PasswordInput {
    static func readLine() throws(Failure) -> String {
        guard let line = Swift.readLine(strippingNewline: true) else {
            throw Failure(message: "--password-stdin: stdin is empty", status: .usage)
        }
        let password = line.hasSuffix("\r") ? String(line.dropLast()) : line
        guard !password.isEmpty else {
            throw Failure(message: "--password-stdin: the password is empty", status: .usage)
        }
        return password
    }
}
