/// Something a user wrote that ttfa cannot use — a threshold, a tolerance, a baseline file —
/// with a message that names it and says what would work.
package struct CheckError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
