import BurrowFrontEnds
import BurrowKernel
import BurrowSpec
import Glibc
import NamespaceEngine
import PtraceEngine
import SetuidEngine

// Setuid mode: before anything else, the environment shrinks to a whitelist and file
// access becomes the caller's (Sources/Engines/Setuid). nil unless burrow is setuid root.
let setuidCaller = SetuidMode.begin()

/// One binary, several front-ends: the name it was invoked under picks the command line
/// (`burrow`, or a compatibility name such as `jchroot`); the spec it builds picks the engine.
let status: Int32 = {
    let frontEnd = FrontEnds.named(CommandLine.arguments.first ?? "burrow")
    let invocation: Invocation
    do throws(UsageError) {
        invocation = try frontEnd.parse(Array(CommandLine.arguments.dropFirst()), hostFacts())
    } catch {
        printError("\(frontEnd.name): \(error.message)\nTry '\(frontEnd.name) --help' for more information.")
        return frontEnd.failureStatus
    }
    switch invocation {
    case .help:
        print(frontEnd.help(), terminator: "")
        return 0
    case .version:
        print(frontEnd.version)
        return 0
    case .engines:
        print(EngineSelection.report(unavailable: unavailable), terminator: "")
        return 0
    case .run(var spec):
        spec.process.failureStatus = frontEnd.failureStatus
        spec.toolName = frontEnd.name
        if spec.engine == .auto, let env = getenv("BURROW_ENGINE") {
            let value = String(cString: env)
            guard let choice = EngineChoice(rawValue: value) else {
                printError("\(frontEnd.name): BURROW_ENGINE='\(value)' is not an engine (choose auto, namespace, setuid or ptrace)")
                return frontEnd.failureStatus
            }
            spec.engine = choice
        }
        // Root's privilege is kept only for setuid mode, else dropped for good right here.
        if SetuidMode.wanted(spec, caller: setuidCaller) { return SetuidMode.run(spec, caller: setuidCaller) }
        SetuidMode.giveUp(setuidCaller)
        let engine = EngineSelection.pick(spec.engine, unavailable: unavailable)
        if spec.engine == .auto, spec.verbose { printError("\(frontEnd.name): engine \(engine.rawValue) (auto)") }
        switch engine {
        case .auto, .namespace:
            return NamespaceEngine.run(spec)
        case .ptrace:
            return PtraceEngine.run(spec)
        case .setuid:
            // SetuidMode.wanted took every run that can use it; `auto` never picks it here
            // (unavailable(.setuid) says why after the drop).
            printError("\(frontEnd.name): setuid mode needs burrow installed setuid root (scripts/install --setuid)")
            return frontEnd.failureStatus
        }
    }
}()

/// The caller's world as the front-ends may see it; read once, here.
func hostFacts() -> HostFacts {
    var environment: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let text = String(cString: pointer)
        if let eq = text.firstIndex(of: "=") {
            let key = String(text[..<eq])
            if environment[key] == nil { environment[key] = String(text[text.index(after: eq)...]) }
        }
        entry += 1
    }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let cwd = getcwd(&buffer, buffer.count) != nil ? String(cString: buffer) : nil
    return HostFacts(environment: environment, workingDirectory: cwd, readFile: readHostFile)
}

/// Why an engine cannot run on this host (nil: it can). Asked lazily, in `auto`'s order.
func unavailable(_ engine: EngineChoice) -> String? {
    switch engine {
    case .auto: return nil
    case .namespace:
        guard let e = Proc.userNamespaceProbe() else { return nil }
        return "unprivileged user namespaces are disabled (clone CLONE_NEWUSER: \(SysError.message(for: e)))"
    case .setuid:
        return setuidCaller == nil ? "burrow is not installed setuid root (scripts/install --setuid)" : nil
    case .ptrace: return PtraceEngine.unavailableReason()
    }
}

func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

exit(status)
