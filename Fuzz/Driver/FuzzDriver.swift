import Foundation
import FuzzTargets

// Built twice. With `-DFUZZING` (`make fuzz`), libFuzzer provides `main` and calls
// `LLVMFuzzerTestOneInput` with the target named by TTFA_FUZZ_TARGET. Without it, this is a
// plain program that runs files through a target (`ttfa-fuzz TARGET FILE…`): how a finding is
// replayed in a normal build, under a debugger.

#if FUZZING
    nonisolated(unsafe) private var selected: (any FuzzTarget.Type)?

    @_cdecl("LLVMFuzzerInitialize")
    public func fuzzInitialize(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
    ) -> CInt {
        let name = ProcessInfo.processInfo.environment["TTFA_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTargets.named(name) else {
            let names = FuzzTargets.all.map { $0.name }.joined(separator: ", ")
            FileHandle.standardError.write(
                Data("ttfa-fuzz: set TTFA_FUZZ_TARGET to one of: \(names) (got '\(name)')\n".utf8))
            exit(2)
        }
        selected = target
        return 0
    }

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        selected!.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
#else
    @main
    enum FuzzDriver {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let name = arguments.first, name != "--help", name != "--list" else {
                print("usage: ttfa-fuzz TARGET FILE… (replays inputs through a fuzz target); targets:")
                for target in FuzzTargets.all {
                    print("  \(target.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(target.summary)")
                }
                exit(arguments.isEmpty ? 2 : 0)
            }
            guard let target = FuzzTargets.named(name) else {
                FileHandle.standardError.write(Data("ttfa-fuzz: no target '\(name)'; see ttfa-fuzz --list\n".utf8))
                exit(2)
            }
            for path in arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("ttfa-fuzz: cannot read \(path)\n".utf8))
                    exit(2)
                }
                target.run(Array(data))
                print("\(target.name): \(path) ok")
            }
        }
    }
#endif
