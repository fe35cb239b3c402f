import BurrowFrontEnds

/// burrow's command line: the input is argv, words separated by NUL.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBurrow(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    checkFrontEnd("burrow", input.arguments) { () throws(UsageError) in try BurrowCommandLine.parse(input.arguments) }
    return 0
}
