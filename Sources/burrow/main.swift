import BurrowFrontEnds
import BurrowKernel
import BurrowSandbox
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
    let frontEnd = FrontEnds.named(CommandLine.arguments.first ?? "burrow", executable: { try? Files.readlink("/proc/self/exe", at: AT_FDCWD) })
    // Every message from here on, of any of burrow's processes, begins with this name.
    Diagnostics.tool = frontEnd.name
    let invocation: Invocation
    do throws(UsageError) {
        invocation = try frontEnd.parse(Array(CommandLine.arguments.dropFirst()), hostFacts())
    } catch {
        Diagnostics.say("\(error.message)\nTry '\(frontEnd.name) --help' for more information.")
        return frontEnd.failureStatus
    }
    switch invocation {
    case .help:
        print(frontEnd.help(), terminator: "")
        return 0
    case .text(let text):
        print(text, terminator: "")
        return 0
    case .version:
        print(frontEnd.version)
        return 0
    case .engines:
        print(EngineSelection.report(unavailable: unavailable), terminator: "")
        return 0
    case .oci(let command):
        // burrow-oci: rootless, on the namespace engine (Sources/burrow/OCIRuntime.swift).
        SetuidMode.giveUp(setuidCaller)
        return OCIRuntime.run(command)
    case .run(var spec):
        // bwrap's --level-prefix: a syslog level before each message (errors 3, warnings 4).
        Diagnostics.levelPrefix = spec.levelPrefix
        for warning in spec.warnings { Diagnostics.warn(warning) }
        spec.process.failureStatus = frontEnd.failureStatus
        spec.terms = frontEnd.terms
        // The caller's descriptors, before burrow opens any of its own under a free number.
        for (fd, what, path) in spec.callerDescriptors where !Files.isOpen(fd) {
            Diagnostics.say("\(frontEnd.terms[what])\(path.map { " " + $0 } ?? ""): descriptor \(fd) is not open")
            return frontEnd.failureStatus
        }
        if spec.engine == .auto, let env = getenv("BURROW_ENGINE") {
            let value = String(cString: env)
            guard let choice = EngineChoice(rawValue: value) else {
                Diagnostics.say("BURROW_ENGINE='\(value)' is not an engine (choose auto, namespace, setuid or ptrace)")
                return frontEnd.failureStatus
            }
            spec.engine = choice
        }
        // auto, where nothing restricts user namespaces: no probe (a clone of a user and
        // mount namespace, whose teardown waits for an RCU grace period): the supervisor's
        // own unshare tells, and a refusal there falls through to the next engine
        // (NamespaceEngine.attempt). A setuid burrow and a restricted host still probe.
        if spec.engine == .auto, setuidCaller == nil, hostRestrictions().userNamespacesUnrestricted {
            UnavailableAnswers[.namespace] = .some(nil)
        }
        // One place decides the engine: the one asked for, or auto's first that works here
        // (the ptrace engine where the spec has reasons only it meets).
        var reasons = spec.engine == .auto ? EngineSelection.ptraceReasons(spec, destination: destinationState) : []
        // Root inside that package managers can use (SubordinateIDs): real on the namespace
        // engine with the caller's subordinate ranges, else, for auto, the ptrace engine's
        // faked ids (EngineSelection.rootReason says why that and not faking here).
        let subordinate = rootMaps(spec)
        if spec.engine == .auto, spec.identity.asksForRootWithoutMaps, spec.namespaces.userToJoin == nil,
           spec.namespaces.mapsFromCaller == nil {
            var why: String?
            if case .unavailable(let w)? = subordinate { why = w }
            let plain = EngineSelection.pick(.auto, ptraceFor: reasons, unavailable: unavailable)
            let expresses = { unavailable(.ptrace) == nil && PtraceEngine.refusal(spec) == nil }
            if let reason = EngineSelection.rootReason(spec.identity, subordinate: why, plain: plain, ptraceExpresses: expresses) {
                reasons.append(reason)
            }
        }
        let engine = EngineSelection.pick(spec.engine, ptraceFor: reasons, unavailable: unavailable)
        // (setuid mode explains a burrow that is not setuid root itself, with how to install it.)
        if spec.engine != .auto, engine != .setuid || setuidCaller != nil, let reason = unavailable(engine) {
            let others = EngineSelection.autoOrder.filter { $0 != engine && unavailable($0) == nil }.map(\.rawValue)
            var hint = others.isEmpty ? "" : "\n  hint: the \(others.joined(separator: " or ")) engine can (--engine auto picks it)"
            if engine == .namespace { hint += "\n  " + NamespaceEngine.userNamespaceHint.split(separator: "\n").joined(separator: "\n  ") }
            Diagnostics.say("the \(engine.rawValue) engine cannot run here: \(reason)\(hint)")
            return frontEnd.failureStatus
        }
        if spec.verbose, engine == .ptrace, spec.engine == .auto, !reasons.isEmpty {
            Diagnostics.say("engine ptrace (auto, for what only it does: \(reasons.joined(separator: "; ")))")
        } else if spec.verbose {
            for skipped in EngineSelection.autoOrder.prefix(while: { $0 != engine }) where spec.engine == .auto {
                Diagnostics.say("engine \(skipped.rawValue) not used: \(unavailable(skipped) ?? "")")
            }
            Diagnostics.say("engine \(engine.rawValue) (\(spec.engine == .auto ? "auto" : "asked for"))")
        }
        // bwrap's --assert-userns-disabled: where user namespaces can still be made, refuse.
        if spec.security.assertsUserNamespacesDisabled, HostProbes.userNamespace() == nil {
            Diagnostics.say("creating new user namespaces works here, but --assert-userns-disabled asks that it does not")
            return frontEnd.failureStatus
        }
        // bwrap's --block-fd: nothing starts until the caller writes to it (or closes it).
        if let fd = spec.process.blockDescriptor {
            do throws(SysError) { try Files.awaitByte(fd, what: "--block-fd \(fd)") } catch {
                Diagnostics.say(error.description)
                return frontEnd.failureStatus
            }
        }
        // jchroot's -b: burrow returns with the command; its leftovers run on (Background).
        if spec.process.leftovers == .leftRunning {
            return Background.run { run(spec, on: engine, subordinate: subordinate) }
        }
        return run(spec, on: engine, subordinate: subordinate)
    }
}()

/// Runs the sandbox on the engine chosen and says how it ended: the one place a failure of
/// an engine is printed and a status mapped to the front-end's.
func run(_ spec: SandboxSpec, on engine: EngineChoice, subordinate: NamespaceEngine.SubordinateRoot?) -> Int32 {
    let outcome = outcome(spec, on: engine, subordinate: subordinate)
    if case .failed(let message, _) = outcome, !message.isEmpty { Diagnostics.say(message) }
    // bwrap's --json-status-fd ends with the command's exit code (none when it never ran).
    if let fd = spec.process.reports.jsonStatus, case .exited(let status) = outcome {
        _ = try? Files.writeAll(fd, Array(StatusReports.exitObject(status).utf8), what: "--json-status-fd \(fd)")
    }
    return outcome.status(failureStatus: spec.process.failureStatus)
}

func outcome(_ spec: SandboxSpec, on engine: EngineChoice, subordinate: NamespaceEngine.SubordinateRoot?) -> Outcome {
    // Root's privilege is kept only for setuid mode, else dropped for good right here.
    if engine == .setuid { return SetuidMode.run(spec, caller: setuidCaller) }
    SetuidMode.giveUp(setuidCaller)
    switch engine {
    case .auto, .namespace, .setuid:
        // auto: the host may still refuse the namespaces where the probe got them (a
        // profile that denies unshare but not clone); then, before anything of the
        // sandbox exists, the ptrace engine runs the command instead, if it can express
        // the spec.
        let fallback = spec.engine == .auto && unavailable(.ptrace) == nil && PtraceEngine.refusal(spec) == nil
        // The ranges are the namespace engine's alone: the fallback fakes root from `spec`.
        var mapped = spec
        switch subordinate {
        case .maps(let uid, let gid)?:
            mapped.identity.uidMap = uid
            mapped.identity.gidMap = gid
            if spec.verbose {
                Diagnostics.say("root inside: uids \(SubordinateIDs.span(uid)) and gids \(SubordinateIDs.span(gid)) mapped, you at 0 and your /etc/subuid and /etc/subgid ranges from 1 (newuidmap, newgidmap)")
            }
        case .unavailable(let why)?:
            if spec.verbose {
                Diagnostics.say("root inside: \(why): only your own ids are mapped, so ids other than 0 and setgroups fail inside (apt's _apt, su); the ptrace engine fakes them (--engine ptrace)")
            }
        case nil: break
        }
        switch NamespaceEngine.attempt(mapped, fallThrough: fallback) {
        case .ran(let outcome): return outcome
        case .hostDenied(let why):
            if spec.verbose {
                Diagnostics.say("engine namespace failed during set-up: \(why.split(separator: "\n").first ?? ""); engine ptrace (auto)")
            }
            return PtraceEngine.run(spec)
        }
    case .ptrace:
        return PtraceEngine.run(spec)
    }
}

/// The maps for root inside on the namespace engine (nil: not asked, or another engine was
/// named): the caller's subordinate ranges, or why there are none. QEMU's binfmt_misc
/// namespace, around the sandbox's, maps the caller's own ids alone, so ranges cannot pass
/// through it.
func rootMaps(_ spec: SandboxSpec) -> NamespaceEngine.SubordinateRoot? {
    // (A joined user namespace has its maps, and with --userns-block-fd the caller writes
    // them: the ids are as those map them.)
    guard spec.identity.asksForRootWithoutMaps, spec.namespaces.userToJoin == nil, spec.namespaces.mapsFromCaller == nil,
          spec.engine == .auto || spec.engine == .namespace else { return nil }
    if spec.emulation.qemu != nil {
        return .unavailable("QEMU's binfmt_misc needs a user namespace of your own ids around the sandbox's")
    }
    return NamespaceEngine.subordinateRoot(uid: getuid(), gid: getgid())
}

/// The caller's world as the front-ends may see it; read once, here.
func hostFacts() -> HostFacts {
    var environment: [String: String] = [:]
    for (key, value) in Credentials.environment() where environment[key] == nil { environment[key] = value }
    var facts = HostFacts(environment: environment, workingDirectory: Files.workingDirectory(), readFile: readHostFile,
                          invokedName: CommandLine.arguments.first ?? "", readDescriptor: readHostDescriptor,
                          descriptorPath: { Files.readlinkIfSymlink("/proc/self/fd/\($0)", at: AT_FDCWD) })
    facts.selinuxEnabled = { (try? Files.stat("/sys/fs/selinux/enforce", at: AT_FDCWD)) != nil }
    return facts
}

/// Why an engine cannot run on this host (nil: it can), found by trying what it needs.
/// Asked lazily, in `auto`'s order; each answer is kept.
/// (A static, not a top-level variable: those are set in order, after `status` has run.)
/// (One stored answer per engine, not a dictionary: a new key type costs the runtime a
/// search of every protocol conformance in the binary, at every start.)
enum UnavailableAnswers {  // single-threaded
    nonisolated(unsafe) static var namespace: String??
    nonisolated(unsafe) static var setuid: String??
    nonisolated(unsafe) static var ptrace: String??
    static subscript(_ engine: EngineChoice) -> String?? {
        get {
            switch engine {
            case .auto: return .some(nil)
            case .namespace: return namespace
            case .setuid: return setuid
            case .ptrace: return ptrace
            }
        }
        set {
            switch engine {
            case .auto: break
            case .namespace: namespace = newValue
            case .setuid: setuid = newValue
            case .ptrace: ptrace = newValue
            }
        }
    }
}
func unavailable(_ engine: EngineChoice) -> String? {
    if let known = UnavailableAnswers[engine] { return known }
    let answer: String?
    switch engine {
    case .auto: answer = nil
    case .namespace:
        // A setuid burrow asks on the caller's behalf, from a child that is only the caller.
        let failure = setuidCaller.map { SetuidMode.userNamespaceProbe($0) } ?? HostProbes.userNamespace()
        answer = failure.map { EngineSelection.namespaceCause(UserNamespaceProbe($0), host: hostRestrictions()) }
    case .setuid:
        if let caller = setuidCaller {
            answer = SetuidMode.rootNamespaceProbe(caller).map { "root cannot make the sandbox's namespaces here: \($0)" }
        } else {
            answer = "burrow is not installed setuid root (scripts/install --setuid)"
        }
    case .ptrace: answer = PtraceEngine.unavailableReason()
    }
    UnavailableAnswers[engine] = answer
    return answer
}

/// What the namespace engine would find at a bind destination (for `auto`'s choice).
func destinationState(_ bind: BindMount, _ base: HostPath, _ components: [String]) -> EngineSelection.DestinationState {
    let state = HostProbes.pathState(below: base.string, components, follow: bind.followDestination)
    switch state {
    case .directory, .other:
        // A missing source skips the bind: nothing to mount.
        guard let source = try? Files.stat(bind.source.string, at: AT_FDCWD, follow: true) else { return .exists }
        return (source.st_mode & S_IFMT == S_IFDIR) == (state == .directory) ? .exists : .otherKind
    case .creatable: return .creatable
    case .notCreatable: return .notCreatable
    }
}

func hostRestrictions() -> HostRestrictions {
    HostRestrictions(unprivilegedUsernsClone: HostProbes.sysctl("kernel.unprivileged_userns_clone"),
                     maxUserNamespaces: HostProbes.sysctl("user.max_user_namespaces"),
                     apparmorRestrictsUserns: HostProbes.sysctl("kernel.apparmor_restrict_unprivileged_userns"),
                     seccompFiltered: HostProbes.seccompFiltered)
}

extension UserNamespaceProbe {
    init(_ f: HostProbes.UserNamespaceFailure) {
        let step: Step
        switch f.step {
        case .clone: step = .clone
        case .setgroups: step = .setgroups
        case .uidMap: step = .uidMap
        case .gidMap: step = .gidMap
        case .mount: step = .mount
        }
        self.init(step: step, error: SysError.message(for: f.errno), limitReached: f.errno == .noSpace)
    }
}

exit(status)
