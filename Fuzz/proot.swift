import BurrowFrontEnds

/// proot's command line: argv (words separated by NUL), then, after a 0x01 byte, the
/// caller's environment as NAME=VALUE lines (PWD= is the working directory; without the
/// section it is /home/user).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPRoot(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    let host = input.hostFacts
    checkFrontEnd("proot", input.arguments) { () throws(UsageError) in try PRootCommandLine.parse(input.arguments, host: host) }
    return 0
}
