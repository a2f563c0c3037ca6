import Foundation

/// Writes reports to files: atomically, creating folders, appending Markdown to a file that
/// exists (as `$GITHUB_STEP_SUMMARY` is appended to).
package enum OutputFiles {
    /// A file that could not be written: the path and what to do.
    package struct Failure: Error, Sendable, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }

    package static func write(_ text: String, to path: String, what: String) throws(Failure) {
        do {
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw Failure(
                message: "\(path): cannot write \(what) (\(error.localizedDescription)); give a writable path")
        }
    }

    /// Appends when the file exists ($GITHUB_STEP_SUMMARY is appended to), else creates it.
    package static func write(markdown path: String?, _ markdown: String, junit junitPath: String?, _ junit: String)
        throws(Failure)
    {
        if let path {
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(Data(markdown.utf8))
                try? handle.close()
            } else {
                try write(markdown, to: path, what: "the Markdown summary")
            }
        }
        if let junitPath { try write(junit, to: junitPath, what: "the JUnit report") }
    }

    /// `2026-11-27T17:20:00`, the form JUnit schemas accept.
    package static func junitTimestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.string(from: Date())
    }
}
