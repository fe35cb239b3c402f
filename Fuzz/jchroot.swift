import BurrowFrontEnds

/// jchroot's command line: argv (words separated by NUL), then, after a 0x01 byte, the text
/// every `-f FILE` reads (no 0x01 byte: every file is missing).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJChroot(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    let file = input.host
    let host = HostFacts(workingDirectory: "/home/user", readFile: { _ in
        file.map { .success($0) } ?? .failure(UsageError("No such file or directory"))
    })
    checkFrontEnd("jchroot", input.arguments) { () throws(UsageError) in try JChrootCommandLine.parse(input.arguments, host) }
    return 0
}
