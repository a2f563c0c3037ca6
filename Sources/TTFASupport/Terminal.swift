import Foundation

/// Writes to stderr (progress, warnings, errors); stdout is for what machines read.
public enum Terminal {
    public static func error(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    public static var stderrIsTTY: Bool { isatty(2) == 1 }
}
