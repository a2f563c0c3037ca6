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

    /// The monitor caps the malloc arenas its threads share: glibc must take the setting, and a
    /// count that is not a count is refused rather than passed on.
    @Test func glibcTakesAnArenaLimit() {
        #if canImport(Glibc)
            #expect(HeapTrim.limitArenas(to: 8, environment: [:]))
        #endif
        #expect(!HeapTrim.limitArenas(to: 0, environment: [:]))
    }

    /// A limit the user set in the environment is theirs: ttfa does not override it.
    @Test func anArenaLimitFromTheEnvironmentWins() {
        #expect(!HeapTrim.limitArenas(to: 2, environment: ["MALLOC_ARENA_MAX": "4"]))
        #expect(!HeapTrim.limitArenas(to: 2, environment: ["GLIBC_TUNABLES": "glibc.malloc.arena_max=1"]))
    }
}
