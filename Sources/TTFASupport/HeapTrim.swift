import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Hands the heap's free pages back to the system: glibc's `malloc_trim(0)`, which walks every
/// malloc arena. A process that lives for hours (`ttfa monitor`) has threads come and go, each
/// allocating in an arena of its own; what they free stays mapped unless trimmed, and the
/// resident size creeps up over the first rounds without a byte being leaked. Called between
/// rounds, never while a trial is measured. Does nothing where the C library has no such call.
package enum HeapTrim {
    #if canImport(Glibc)
        private typealias Trim = @convention(c) (Int) -> Int32
        nonisolated(unsafe) private static let trim: Trim? = dlsym(nil, "malloc_trim").map {
            unsafeBitCast($0, to: Trim.self)
        }
        private typealias Option = @convention(c) (Int32, Int32) -> Int32
        nonisolated(unsafe) private static let option: Option? = dlsym(nil, "mallopt").map {
            unsafeBitCast($0, to: Option.self)
        }
        /// glibc's `M_ARENA_MAX` (malloc.h).
        private static let arenaMax: Int32 = -8
    #endif

    /// Lets the process's threads share at most `count` malloc arenas (glibc's default is eight
    /// per core). Memory a thread frees in one arena serves only the threads of that arena, so a
    /// long-lived process whose threads come and go (a WebRTC call's, SQLite's readers) holds
    /// the high-water mark of each arena; fewer arenas, fewer such marks. Called once, before
    /// the threads start. Returns whether the C library took the setting.
    /// Leaves the setting alone when the environment already makes it (`MALLOC_ARENA_MAX`, or
    /// `glibc.malloc.arena_max` in `GLIBC_TUNABLES`): the user's choice wins.
    @discardableResult
    package static func limitArenas(
        to count: Int32, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Bool {
        if environment["MALLOC_ARENA_MAX"] != nil || environment["GLIBC_TUNABLES"]?.contains("arena_max") == true {
            return false
        }
        #if canImport(Glibc)
            guard let option, count > 0 else { return false }
            return option(arenaMax, count) == 1
        #else
            return false
        #endif
    }

    /// Returns whether the C library could trim.
    @discardableResult
    package static func releaseFreePages() -> Bool {
        #if canImport(Glibc)
            guard let trim else { return false }
            _ = trim(0)
            return true
        #else
            return false
        #endif
    }
}
