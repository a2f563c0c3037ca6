/// ttfa's own version, recorded with every run.
public enum TTFAInfo {
    public static let version = "0.1.0"

    /// The Swift compiler that built ttfa.
    public static var swiftVersion: String {
        #if compiler(>=6.4)
        return "6.4 or later"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #else
        return "6.1"
        #endif
    }
}
