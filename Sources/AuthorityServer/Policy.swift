import AuthorityAPI
import AuthorityCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Maps peer credentials to rights. Root and the daemon's own user are always admin.
public struct Policy: Sendable, Equatable {
    public enum Subject: Sendable, Equatable {
        case uid(UInt32)
        case gid(UInt32)
    }

    public struct Rule: Sendable, Equatable {
        public var subject: Subject
        public var rights: Set<Right>
        public var issuePrefixes: [String]?
    }

    public var rules: [Rule]
    public var defaultRights: Set<Right>
    public var daemonUID: UInt32

    /// The policy without a file: every caller that can connect may check and issue.
    public init(rules: [Rule] = [], defaultRights: Set<Right> = [.check, .issue], daemonUID: UInt32 = getuid()) {
        self.rules = rules
        self.defaultRights = defaultRights
        self.daemonUID = daemonUID
    }

    public func rights(for peer: PeerCredentials) -> CallerRights {
        if peer.uid == 0 || peer.uid == daemonUID { return CallerRights(rights: [.admin], issuePrefixes: nil) }
        let matching = rules.filter { rule in
            switch rule.subject {
            case .uid(let uid): uid == peer.uid
            case .gid(let gid): gid == peer.gid || peer.groups.contains(gid)
            }
        }
        guard !matching.isEmpty else { return CallerRights(rights: defaultRights, issuePrefixes: nil) }
        let rights = matching.reduce(into: Set<Right>()) { $0.formUnion($1.rights) }
        let issuers = matching.filter { $0.rights.contains(.issue) || $0.rights.contains(.admin) }
        let unrestricted = issuers.contains { $0.issuePrefixes == nil }
        return CallerRights(rights: rights, issuePrefixes: unrestricted ? nil : issuers.flatMap { $0.issuePrefixes ?? [] })
    }
}

extension Policy {
    struct File: Decodable {
        struct RuleFile: Decodable {
            var uid: UInt32?
            var user: String?
            var gid: UInt32?
            var group: String?
            var rights: [Right]
            var issuePrefixes: [String]?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case uid, user, gid, group, rights
                case issuePrefixes = "issue_prefixes"
            }
        }
        var rules: [RuleFile]?
        var defaultRights: [Right]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case rules
            case defaultRights = "default_rights"
        }
    }

    /// Loads a policy file (JSON, docs/api.md). Names are resolved now; any problem is an error.
    public static func load(path: String, daemonUID: UInt32 = getuid()) throws(ConfigurationError) -> Policy {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path) }
        try refuseUnknownMembers(data, path: path)
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw .invalid(path, describe(error))
        }
        var rules: [Rule] = []
        for (index, rule) in (file.rules ?? []).enumerated() {
            let origin = "\(path): rule \(index + 1)"
            let subjects = [rule.uid.map { Subject.uid($0) }, try rule.user.map { name throws(ConfigurationError) in
                .uid(try resolveUser(name, origin: origin))
            }, rule.gid.map { Subject.gid($0) }, try rule.group.map { name throws(ConfigurationError) in
                .gid(try resolveGroup(name, origin: origin))
            }].compactMap { $0 }
            guard subjects.count == 1 else { throw .invalid(origin, "name exactly one of uid, user, gid, group") }
            var prefixes: [String]?
            if let given = rule.issuePrefixes {
                prefixes = try given.map { prefix throws(ConfigurationError) in
                    do {
                        return try canonicalPath(prefix)
                    } catch {
                        throw .invalid(origin, "issue prefix \"\(prefix)\": \(error)")
                    }
                }
            }
            rules.append(Rule(subject: subjects[0], rights: Set(rule.rights), issuePrefixes: prefixes))
        }
        return Policy(rules: rules, defaultRights: Set(file.defaultRights ?? [.check, .issue]), daemonUID: daemonUID)
    }

    private static func refuseUnknownMembers(_ data: Data, path: String) throws(ConfigurationError) {
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .invalid(path, "not a JSON object")
        }
        if let unknown = KnownMembers(File.CodingKeys.allCases.map(\.rawValue)).unknown(in: json.keys).first {
            throw .invalid(path, "unknown member \"\(unknown)\"")
        }
        let ruleKeys = KnownMembers(File.RuleFile.CodingKeys.allCases.map(\.rawValue))
        for (index, rule) in ((json["rules"] as? [Any]) ?? []).enumerated() {
            guard let rule = rule as? [String: Any] else { continue }
            if let unknown = ruleKeys.unknown(in: rule.keys).first {
                throw .invalid("\(path): rule \(index + 1)", "unknown member \"\(unknown)\"")
            }
        }
    }

    static func resolveUser(_ name: String, origin: String) throws(ConfigurationError) -> UInt32 {
        guard let entry = getpwnam(name) else { throw .invalid(origin, "unknown user \"\(name)\"") }
        return entry.pointee.pw_uid
    }

    static func resolveGroup(_ name: String, origin: String) throws(ConfigurationError) -> UInt32 {
        guard let entry = getgrnam(name) else { throw .invalid(origin, "unknown group \"\(name)\"") }
        return entry.pointee.gr_gid
    }
}
