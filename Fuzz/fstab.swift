import BurrowFrontEnds
import BurrowSandbox

/// The fstab parser (jchroot -f): the input is the file's text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFstab(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    // Lines as the file has them: LF bytes (a CR LF is one Character to Swift, not a "\n").
    let lines = text.utf8.split(separator: 0x0a, omittingEmptySubsequences: false).count
    do throws(Fstab.ParseError) {
        let operations = try Fstab.parse(text, file: "/etc/fuzz.fstab")
        if operations.count > lines { violation("fstab", "\(operations.count) operations from \(lines) lines") }
        var spec = SandboxSpec(root: RootFS(path: HostPath("/srv/target")), operations: operations)
        spec.namespaces.ipc = true  // as jchroot has it
        checkSpec(spec, from: "fstab")
        // Fields are split at blanks and lines at LF: without a backslash escape no field
        // can hold one.
        if !text.utf8.contains(UInt8(ascii: "\\")) {
            for op in operations {
                var fields = op.destination.components
                switch op {
                case .bind(let b): fields.append(b.source.string)
                case .filesystem(let f): fields += [f.type, f.source] + f.data
                default: break
                }
                for field in fields where field.unicodeScalars.contains(where: { " \t\n".unicodeScalars.contains($0) }) {
                    violation("fstab", "field \(field.debugDescription) holds a blank or a line break")
                }
            }
        }
    } catch {
        if error.file != "/etc/fuzz.fstab" || !(1...lines).contains(error.line) {
            violation("fstab", "error at \(error.file):\(error.line) of \(lines) lines")
        }
        checkMessage(error.message, from: "fstab")
        checkMessage(error.description, from: "fstab")
    }
    return 0
}
