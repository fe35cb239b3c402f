/// The ptrace(2) requests a guest tracer makes, by name (<linux/ptrace.h>, x86_64's
/// <asm/ptrace-abi.h> for the register ones); the raw value is what the guest passes.
enum PtraceRequest: Int {
    case traceMe = 0
    case peekText = 1, peekData = 2, peekUser = 3
    case pokeText = 4, pokeData = 5, pokeUser = 6
    case cont = 7, kill = 8, singleStep = 9
    case getRegs = 12, setRegs = 13, getFPRegs = 14, setFPRegs = 15
    case attach = 16, detach = 17, syscall = 24
    case setOptions = 0x4200, getEventMsg = 0x4201, getSigInfo = 0x4202, setSigInfo = 0x4203
    case getRegSet = 0x4204, setRegSet = 0x4205, seize = 0x4206, interrupt = 0x4207, listen = 0x4208
    case getSigMask = 0x420a, setSigMask = 0x420b, getSyscallInfo = 0x420e
}
