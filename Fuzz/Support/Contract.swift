import BurrowFrontEnds
import BurrowSandbox
import Glibc

// The contract every fuzz target checks, whatever the parser:
//   - no trap (Swift's own checks: bounds, overflow, force-unwrap; ASan's for memory);
//   - a rejection is a typed error whose message is one clean line: not empty, no line
//     break or other control character (main prints it after "TOOL: " on one line);
//   - an accepted spec passes the spec's own validation (or is rejected cleanly by it),
//     carries no NUL byte in a string the engines hand to the kernel, and parsing the same
//     input again gives the same result.
// A broken contract is a deliberate trap with the reason, so libFuzzer saves the input.

/// Splits `bytes` into the fuzz input's sections: the first is the command line (words
/// separated by NUL, as the kernel lays out argv), the second (after the first 0x01 byte),
/// if any, is what the host provides (an environment or a file's text).
struct FuzzInput {
    var arguments: [String]
    var host: String?

    init(_ bytes: UnsafeRawBufferPointer) {
        let all = Array(bytes)
        let split = all.firstIndex(of: 0x01)
        let argvBytes = split.map { Array(all[..<$0]) } ?? all
        host = split.map { String(decoding: all[($0 + 1)...], as: UTF8.self) }
        // Invalid UTF-8 is repaired as CommandLine.arguments repairs it.
        arguments = argvBytes.isEmpty ? [] : argvBytes.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// The host section read as `NAME=VALUE` lines; `PWD=` sets the working directory.
    var hostFacts: HostFacts {
        var environment: [String: String] = [:]
        var cwd: String?
        // environ's strings cannot hold a NUL byte.
        for line in (host ?? "").split(separator: "\n") where !line.utf8.contains(0) {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let name = String(line[..<eq]), value = String(line[line.index(after: eq)...])
            if name == "PWD" { cwd = value } else { environment[name] = value }
        }
        if cwd == nil, host == nil { cwd = "/home/user" }
        return HostFacts(environment: environment, workingDirectory: cwd)
    }
}

func violation(_ what: String, _ detail: String) -> Never {
    // Here a trap *is* the report (-O drops preconditionFailure's text, so say it first).
    let text = Array("fuzz contract broken: \(what): \(detail)\n".utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    preconditionFailure("fuzz contract broken")
}

/// One clean line: what main prints after "TOOL: ".
func checkMessage(_ message: String, from what: String) {
    if message.isEmpty { violation(what, "empty error message") }
    for scalar in message.unicodeScalars where isBreaking(scalar) {
        violation(what, "control character U+\(String(scalar.value, radix: 16)) in the message \(message.debugDescription)")
    }
}

/// Checked here independently of the front-ends' own OneLine.escaping.
func isBreaking(_ scalar: Unicode.Scalar) -> Bool {
    scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
}

/// Parses twice (the same input must give the same answer) and checks either outcome.
func checkFrontEnd(_ name: String, _ arguments: [String], _ parse: () throws(UsageError) -> Invocation) {
    let first: Result<Invocation, UsageError>
    do throws(UsageError) { first = .success(try parse()) } catch { first = .failure(error) }
    let second: Result<Invocation, UsageError>
    do throws(UsageError) { second = .success(try parse()) } catch { second = .failure(error) }
    if first != second { violation(name, "two parses of \(arguments) differ") }
    switch first {
    case .failure(let error):
        checkMessage(error.message, from: name)
    case .success(.run(let spec)):
        checkSpec(spec, from: name)
    case .success(.help), .success(.version), .success(.engines), .success(.text):
        break
    case .success(.oci(let invocation)):
        // A runtime command names a container ID as runc allows them (a directory name).
        switch invocation.command {
        case .create(let c), .run(let c): checkID(c.id, from: name)
        case .start(let id), .state(let id), .kill(let id, _, _), .delete(let id, _), .ps(let id, _), .pause(let id), .resume(let id):
            checkID(id, from: name)
        case .exec(let o):
            checkID(o.id, from: name)
            for s in o.args + o.environment where s.utf8.contains(0) {
                violation(name, "NUL byte in \(s.debugDescription): the kernel would see a shorter string")
            }
        case .update(let o):
            checkID(o.id, from: name)
            if let file = o.resourcesFile, file.utf8.contains(0) { violation(name, "NUL byte in --resources \(file.debugDescription)") }
            if let s = o.limits.cpus ?? o.limits.mems, s.utf8.contains(0) { violation(name, "NUL byte in a cpuset \(s.debugDescription)") }
        case .list, .features, .spec, .help, .version: break
        }
    }
}

func checkID(_ id: String, from name: String) {
    if id.isEmpty || id == "." || id == ".." || id.utf8.contains(UInt8(ascii: "/")) || id.utf8.contains(0) {
        violation(name, "container ID \(id.debugDescription) accepted")
    }
}

func checkSpec(_ spec: SandboxSpec, from name: String) {
    do throws(SpecError) { try spec.validate() } catch { checkMessage(error.message, from: "\(name) (validate)") }
    if let refusal = spec.setuidRefusal(callerUid: 1000, callerGid: 1000) {
        checkMessage(refusal.message, from: "\(name) (setuid policy)")
    }
    var strings: [String] = [spec.root.path.string] + spec.process.argv
    if case .keep(let dir) = spec.root.overlay { strings.append(dir.string) }
    strings += [spec.process.hostname, spec.process.pidFile?.string, spec.identity.userName, spec.identity.groupName,
                spec.identity.fakeDatabase?.string, spec.emulation.uname?.release].compactMap { $0 }
    if let chdir = spec.process.chdir { checkNormalised(chdir, from: name); strings += chdir.components }
    for op in spec.process.environment {
        switch op {
        case .set(let key, let value):
            if key.isEmpty || key.utf8.contains(UInt8(ascii: "=")) { violation(name, "environment name \(key.debugDescription) set") }
            strings += [key, value]
        case .unset(let key): strings.append(key)
        case .clear: break
        }
    }
    for op in spec.operations {
        checkNormalised(op.destination, from: name)
        strings += op.destination.components
        switch op {
        case .bind(let b): strings.append(b.source.string)
        case .filesystem(let f): strings += [f.type, f.source] + f.data
        case .symlink(let target, _): strings.append(target)
        case .overlay(let o):
            strings += o.layers.map(\.string)
            if case .kept(let upper, let work) = o.changes { strings += [upper.string, work.string] }
        case .tmpfs, .proc, .dev, .mqueue, .dir, .remountReadOnly, .file, .chmod: break
        }
    }
    if let argv0 = spec.process.argv0 { strings.append(argv0) }
    for path in spec.process.lockFiles {
        checkNormalised(path, from: name)
        strings += path.components
    }
    for s in strings where s.utf8.contains(0) {
        violation(name, "NUL byte in \(s.debugDescription): the kernel would see a shorter string")
    }
}

/// Byte by byte, as the kernel reads a path: no empty, `.` or `..` component and no `/`
/// inside one (a Character such as U+0600 followed by `/` is one grapheme but two components).
func checkNormalised(_ path: GuestPath, from name: String) {
    for c in path.components {
        let bytes = Array(c.utf8)
        if bytes.isEmpty || bytes == [0x2e] || bytes == [0x2e, 0x2e] || bytes.contains(0x2f) {
            violation(name, "guest path \(path.components) is not normalised")
        }
    }
}
