import BurrowFrontEnds

/// linux-user-chroot's command line: the input is argv, words separated by NUL.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLinuxUserChroot(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    checkFrontEnd("linux-user-chroot", input.arguments) { () throws(UsageError) in
        try LinuxUserChrootCommandLine.parse(input.arguments)
    }
    return 0
}
