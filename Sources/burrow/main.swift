import BurrowFrontEnds
import BurrowSpec
import Glibc
import NamespaceEngine

/// One binary, several front-ends: the name it was invoked under picks the command line
/// (only `burrow` exists yet); the spec it builds picks the engine.
let status: Int32 = {
    let args = Array(CommandLine.arguments.dropFirst())
    let invocation: Invocation
    do throws(UsageError) {
        invocation = try BurrowCommandLine.parse(args)
    } catch {
        printError("burrow: \(error.message)\nTry 'burrow --help' for more information.")
        return 125
    }
    switch invocation {
    case .help:
        print(BurrowCommandLine.help, terminator: "")
        return 0
    case .version:
        print("burrow \(BurrowCommandLine.version)")
        return 0
    case .run(var spec):
        if spec.engine == .auto, let env = getenv("BURROW_ENGINE") {
            let value = String(cString: env)
            guard let choice = EngineChoice(rawValue: value) else {
                printError("burrow: BURROW_ENGINE='\(value)' is not an engine (choose auto or namespace; ptrace and setuid are planned)")
                return 125
            }
            spec.engine = choice
        }
        switch spec.engine {
        case .auto, .namespace:
            return NamespaceEngine.run(spec)
        case .ptrace, .setuid:
            printError("""
                burrow: the \(spec.engine.rawValue) engine is not available in this version of burrow
                  hint: use --engine namespace (needs unprivileged user namespaces), or leave --engine at auto
                """)
            return 125
        }
    }
}()

func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

exit(status)
