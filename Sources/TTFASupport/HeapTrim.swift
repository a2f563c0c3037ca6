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
    #endif

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
