@testable import AuthorityAPI

/// Values of every table-declared wire type, built from the tables themselves, so that a new
/// member is covered by the differential tests the moment it is declared.
enum WireSamples {
    static let awkward = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
        + "\"quoted\" back\\slash /path/ é ü 漢字 🙂 \u{2028}\u{2029} \u{7F}"

    /// Every flat value a member could take; each member keeps those its type accepts.
    static let flatValues: [FlatJSONValue] = [
        .string(awkward), .string(""), .string("/a/b?c=d"), .integer(.max), .integer(.min), .integer(-1), .integer(0),
        .integer(1_900_000_000), .bool(true), .bool(false), .strings([]), .strings(["GET", "HEAD"]),
        .strings([awkward, ""]), .null,
    ]

    static let answers: [any WireSample.Type] = [
        CheckLinkResponse.self, IssueLinkResponse.self, RevocationEntry.self, JSONWebKey.self, RotateResponse.self,
        HealthResponse.self, IntegrityResponse.self, AuditEntryBody.self, ExplainedGrant.self, ExplainedCheck.self,
        LinkEventBody.self,
    ]
    static let nestedAnswers: [any WireSample.Type] = [RevocationPage.self, ExplainLinkResponse.self, LinkStateResponse.self, EventPage.self]
    static let requests: [any WireSample.Type] = [
        IssueLinkRequest.self, CheckLinkRequest.self, RevokeRequest.self, RetireRequest.self, ExplainLinkRequest.self,
    ]

    /// The template; then each flat member set to each value it accepts, the others left as they
    /// are; then every flat member set at once (to its first non-null value).
    static func variants<T: WireObject>(of type: T.Type) -> [T] {
        var result = [T.wireTemplate]
        var everything = T.wireTemplate
        for field in T.wireFields.fields {
            guard let read = field.read else { continue }
            var accepted = 0
            for sample in flatValues {
                var value = T.wireTemplate
                guard read(&value, sample) else { continue }
                result.append(value)
                if sample != .null && accepted == 0 { _ = read(&everything, sample) }
                accepted += 1
            }
            precondition(accepted > 1, "\(T.self).\(field.name) takes no sample value")
        }
        result.append(everything)
        return result
    }

    /// Names of the members that no sample reaches (nested ones): they need values of their own.
    static func nestedMembers<T: WireObject>(of type: T.Type) -> [String] {
        T.wireFields.fields.filter { $0.read == nil }.map(\.name)
    }
}

/// A table-declared wire type the differential tests compare (every wire type is `Equatable`).
protocol WireSample: WireObject, Equatable {}

extension CheckLinkResponse: WireSample {}
extension IssueLinkResponse: WireSample {}
extension RevocationEntry: WireSample {}
extension JSONWebKey: WireSample {}
extension RotateResponse: WireSample {}
extension HealthResponse: WireSample {}
extension IntegrityResponse: WireSample {}
extension AuditEntryBody: WireSample {}
extension ExplainedGrant: WireSample {}
extension ExplainedCheck: WireSample {}
extension RevocationPage: WireSample {}
extension ExplainLinkResponse: WireSample {}
extension LinkStateResponse: WireSample {}
extension LinkEventBody: WireSample {}
extension EventPage: WireSample {}
extension IssueLinkRequest: WireSample {}
extension CheckLinkRequest: WireSample {}
extension RevokeRequest: WireSample {}
extension RetireRequest: WireSample {}
extension ExplainLinkRequest: WireSample {}
