/// A JSON object whose members are declared once, in `wireFields`: its `Codable` conformance
/// (absent values written as `null` in answers), the daemon's hand-written writer, its quick reader
/// of request bodies and the refusal of unknown members all come from that one table.
public protocol WireObject: Codable, Sendable {
    /// Every member, in the order the properties are declared (decoding reports the first problem
    /// in this order, as a synthesized `init(from:)` does).
    static var wireFields: WireFields<Self> { get }
    /// The value decoding starts from: every member read is set over it.
    static var wireTemplate: Self { get }
}

extension WireObject {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: WireKey.self)
        var value = Self.wireTemplate
        for field in Self.wireFields.fields { try field.decode(&value, container) }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: WireKey.self)
        let fields = Self.wireFields
        for field in fields.fields { try field.encode(self, &container, fields.absent == .null) }
    }

    /// The bytes `JSONEncoder` writes with `.sortedKeys` and `.withoutEscapingSlashes`, written by
    /// hand; nil when the table has a nested member or leaves absent values out.
    public func handWrittenJSON() -> [UInt8]? {
        let fields = Self.wireFields
        guard fields.absent == .null, let writers = fields.writers else { return nil }
        var object = JSONObjectWriter()
        for write in writers { write(self, &object) }
        return object.finish()
    }
}

/// The members of one wire type, from which everything else about them is derived.
public struct WireFields<Root>: Sendable {
    /// What `encode(to:)` does with an absent optional member.
    public enum Absent: Sendable { case null, omitted }

    let fields: [WireField<Root>]
    let absent: Absent
    /// The member names, and the one wording of a refusal of any other.
    public let known: KnownMembers
    /// The hand-written writer's steps, sorted by member name; nil when a member is nested.
    let writers: [@Sendable (Root, inout JSONObjectWriter) -> Void]?
    private let requiredCount: Int

    /// Answers write absent members as `null`, so every answer has the same members; request
    /// bodies (as `authorityctl` sends them) leave them out.
    public init(absent: Absent = .null, _ fields: WireField<Root>...) {
        self.fields = fields
        self.absent = absent
        known = KnownMembers(fields.map(\.name))
        let sorted = fields.sorted { $0.name < $1.name }
        writers = sorted.allSatisfy { $0.write != nil } ? sorted.compactMap(\.write) : nil
        requiredCount = fields.count { $0.required }
    }

    /// What the quick reader makes of one flat object's members.
    public enum Reading {
        case value(Root)
        /// Members no field declares, sorted: the body is refused whatever else it holds.
        case unknown([String])
        /// A wrong type, a missing or null required member, a nested member: `JSONDecoder` decides.
        case undecided
    }

    /// Reads `members` (distinct names) over `template`.
    public func read(_ members: [(name: String, value: FlatJSONValue)], over template: Root) -> Reading {
        var value = template
        var required = 0
        for member in members {
            guard let field = fields.first(where: { $0.name == member.name }) else {
                return .unknown(known.unknown(in: members.lazy.map { $0.name }))
            }
            guard let read = field.read, read(&value, member.value) else { return .undecided }
            if field.required { required += 1 }
        }
        return required == requiredCount ? .value(value) : .undecided
    }
}

extension WireFields.Reading: Equatable where Root: Equatable {}

/// A flat JSON value, as the daemon's quick reader of request bodies finds it.
public enum FlatJSONValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case strings([String])
    case bool(Bool)
    case null
}

/// Any member name.
public struct WireKey: CodingKey, Sendable {
    public let stringValue: String
    public var intValue: Int? { nil }
    public init(_ name: String) { stringValue = name }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
