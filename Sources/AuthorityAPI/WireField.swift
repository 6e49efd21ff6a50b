/// One JSON member of `Root`: its name and the property behind it, written once as
/// `WireField("expires_at", \.expiresAt)`. The property's type picks how it is encoded, decoded,
/// written by hand and read by the quick reader. A class: the hot paths walk the table, and a
/// struct of five closures cost five retains and releases per member looked at.
public final class WireField<Root>: Sendable {
    public let name: String
    /// Must be present and not null when decoding.
    let required: Bool
    let encode: @Sendable (Root, inout KeyedEncodingContainer<WireKey>, _ nullWhenAbsent: Bool) throws -> Void
    let decode: @Sendable (inout Root, KeyedDecodingContainer<WireKey>) throws -> Void
    /// Nil for a nested member (an object, a list of objects): only `Codable` handles those.
    let write: (@Sendable (Root, inout JSONObjectWriter) -> Void)?
    /// Sets the property from a flat value; false when the value has the wrong type.
    let read: (@Sendable (inout Root, FlatJSONValue) -> Bool)?

    /// A member that must be present and not null.
    convenience init<Value: Codable & Sendable>(name: String, path: WritableKeyPath<Root, Value> & Sendable, flat: FlatKind<Value>?) {
        self.init(
            name: name, required: true, path: path, flat: flat,
            encode: { value, container, key, _ in try container.encode(value, forKey: key) },
            decode: { container, key in try container.decode(Value.self, forKey: key) })
    }

    /// A member that may be absent or null.
    convenience init<Value: Codable & Sendable>(name: String, path: WritableKeyPath<Root, Value?> & Sendable, flat: FlatKind<Value>?) {
        self.init(
            name: name, required: false, path: path, flat: flat?.orNull,
            encode: { value, container, key, nullWhenAbsent in
                if nullWhenAbsent {
                    try container.encode(value, forKey: key)
                } else {
                    try container.encodeIfPresent(value, forKey: key)
                }
            },
            decode: { container, key in try container.decodeIfPresent(Value.self, forKey: key) })
    }

    private init<Value>(
        name: String, required: Bool, path: WritableKeyPath<Root, Value> & Sendable, flat: FlatKind<Value>?,
        encode: @escaping @Sendable (Value, inout KeyedEncodingContainer<WireKey>, WireKey, Bool) throws -> Void,
        decode: @escaping @Sendable (KeyedDecodingContainer<WireKey>, WireKey) throws -> Value
    ) {
        let key = WireKey(name)
        let quoted = JSONText.quotedName(name)
        self.name = name
        self.required = required
        self.encode = { root, container, nullWhenAbsent in try encode(root[keyPath: path], &container, key, nullWhenAbsent) }
        self.decode = { root, container in root[keyPath: path] = try decode(container, key) }
        guard let flat else {
            (write, read) = (nil, nil)
            return
        }
        // The hot paths reach a stored property at its offset: applying a key path costs several
        // times as much (measured: 0.5 µs more per check answer). A computed one keeps the key path.
        guard let offset = MemoryLayout<Root>.offset(of: path) else {
            write = { root, object in
                object.name(quoted)
                flat.write(root[keyPath: path], &object)
            }
            read = { root, value in
                guard let read = flat.read(value) else { return false }
                root[keyPath: path] = read
                return true
            }
            return
        }
        write = { root, object in
            object.name(quoted)
            flat.write(withUnsafeBytes(of: root) { $0.load(fromByteOffset: offset, as: Value.self) }, &object)
        }
        read = { root, value in
            guard let read = flat.read(value) else { return false }
            withUnsafeMutableBytes(of: &root) { ($0.baseAddress! + offset).assumingMemoryBound(to: Value.self).pointee = read }
            return true
        }
    }
}

/// How one flat type is written by hand and read from a `FlatJSONValue`.
struct FlatKind<Value>: Sendable {
    let write: @Sendable (Value, inout JSONObjectWriter) -> Void
    let read: @Sendable (FlatJSONValue) -> Value?

    /// The same, with `null` for nil (as `decodeIfPresent` reads it and `encode` writes it).
    var orNull: FlatKind<Value?> {
        let (write, read) = (write, read)
        return FlatKind<Value?>(
            write: { value, object in if let value { write(value, &object) } else { object.null() } },
            read: { value -> Value?? in
                if value == .null { return .some(nil) }
                guard let read = read(value) else { return nil }  // the wrong type: refused, not null
                return .some(read)
            })
    }
}

extension FlatKind where Value == String {
    static var string: Self {
        Self(write: { $1.string($0) }, read: { if case .string(let text) = $0 { text } else { nil } })
    }
}

extension FlatKind where Value == Bool {
    static var bool: Self {
        Self(write: { $1.bool($0) }, read: { if case .bool(let flag) = $0 { flag } else { nil } })
    }
}

extension FlatKind where Value == [String] {
    static var strings: Self {
        Self(write: { $1.strings($0) }, read: { if case .strings(let list) = $0 { list } else { nil } })
    }
}

extension FlatKind where Value: FixedWidthInteger & Sendable {
    /// Integers the quick reader found (at most 18 digits) that fit `Value` exactly.
    static var integer: Self {
        Self(write: { $1.integer($0) }, read: { if case .integer(let number) = $0 { Value(exactly: number) } else { nil } })
    }
}

extension WireField {
    public convenience init(_ name: String, _ path: WritableKeyPath<Root, String> & Sendable) {
        self.init(name: name, path: path, flat: .string)
    }

    public convenience init(_ name: String, _ path: WritableKeyPath<Root, String?> & Sendable) {
        self.init(name: name, path: path, flat: .string)
    }

    public convenience init(_ name: String, _ path: WritableKeyPath<Root, Bool> & Sendable) {
        self.init(name: name, path: path, flat: .bool)
    }

    public convenience init(_ name: String, _ path: WritableKeyPath<Root, Bool?> & Sendable) {
        self.init(name: name, path: path, flat: .bool)
    }

    public convenience init(_ name: String, _ path: WritableKeyPath<Root, [String]> & Sendable) {
        self.init(name: name, path: path, flat: .strings)
    }

    public convenience init(_ name: String, _ path: WritableKeyPath<Root, [String]?> & Sendable) {
        self.init(name: name, path: path, flat: .strings)
    }

    public convenience init<Number: FixedWidthInteger & Codable & Sendable>(_ name: String, _ path: WritableKeyPath<Root, Number> & Sendable) {
        self.init(name: name, path: path, flat: .integer)
    }

    public convenience init<Number: FixedWidthInteger & Codable & Sendable>(_ name: String, _ path: WritableKeyPath<Root, Number?> & Sendable) {
        self.init(name: name, path: path, flat: .integer)
    }

    /// An object or a list of objects: `Codable` only, never written or read by hand.
    public convenience init<Value: Codable & Sendable>(_ name: String, nested path: WritableKeyPath<Root, Value> & Sendable) {
        self.init(name: name, path: path, flat: nil as FlatKind<Value>?)
    }

    public convenience init<Value: Codable & Sendable>(_ name: String, nested path: WritableKeyPath<Root, Value?> & Sendable) {
        self.init(name: name, path: path, flat: nil as FlatKind<Value>?)
    }
}
