import TTFASupport
import Testing

@Suite("Heap trim between monitor rounds")
struct HeapTrimTests {
    /// The monitor's memory stays flat only if the trim is really called: on glibc (Debian,
    /// Ubuntu: where ttfa ships) the symbol must be found.
    @Test func glibcsMallocTrimIsFound() {
        #if canImport(Glibc)
            #expect(HeapTrim.releaseFreePages())
        #endif
    }
}
