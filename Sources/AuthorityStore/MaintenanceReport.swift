/// What one maintenance round did.
public struct MaintenanceReport: Sendable, Equatable {
    /// Epochs retired because every link under them has expired.
    public var retired: [UInt64] = []
    public var revocationsCollected = 0
    public var linkStatesCollected = 0
    /// `expired` and `expiring_soon` events written.
    public var eventsTold = 0
    public init() {}
}
