/// Something a user wrote that ttfa cannot use — a threshold, a tolerance, a baseline file —
/// with a message that names it and says what would work.
public struct CheckError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
