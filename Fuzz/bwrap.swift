import BurrowFrontEnds

/// bwrap's command line: argv (words separated by NUL), then, after a 0x01 byte, what
/// descriptor 3 holds for `--args 3` (NUL-separated arguments); descriptor 9 is open on
/// /srv/fd9 for `--bind-fd 9`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBwrap(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    let args = Array((input.host ?? "").utf8)
    var host = HostFacts(environment: [:], workingDirectory: "/home/user")
    host.invokedName = "bwrap"
    host.readDescriptor = { fd in fd == 3 ? .success(args) : .failure(UsageError("Bad file descriptor")) }
    host.descriptorPath = { fd in fd == 9 ? "/srv/fd9" : nil }
    let facts = host
    checkFrontEnd("bwrap", input.arguments) { () throws(UsageError) in try BwrapCommandLine.parse(input.arguments, facts) }
    return 0
}
