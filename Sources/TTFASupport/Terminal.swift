import Foundation

/// Writes to stderr (progress, warnings, errors); stdout is for what machines read.
package enum Terminal {
    package static func error(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    package static var stderrIsTTY: Bool { isatty(2) == 1 }
}
