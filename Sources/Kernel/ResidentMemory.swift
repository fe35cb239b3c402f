import CKernel
import Glibc

/// The resident memory of a process that waits.
///
/// Burrow is one static binary of about 20 MB. A supervisor that has set a sandbox up and
/// now only waits (for the init, a signal, the cleaner's pipe, a tracee's next call) still
/// maps every page of code it ran: 4 to 6 MB of resident memory per running sandbox, where
/// bwrap's waiting processes hold 2 MB each. Those pages are clean copies of the binary's
/// read-only segments, so a waiter that has had nothing to do for `idleMilliseconds`
/// unmaps them (`MADV_DONTNEED`), and the kernel faults them in again from the page cache
/// (no I/O: a minor fault per 64 KiB) when it runs that code again. Of the writable segment
/// only the pages never written are given back (the rest is this process's data), and the
/// heap and the stacks never.
///
/// The release and the wait that follows are one C call (`ck_poll_idle`): Swift code run
/// between them would fault pages back in at once.
public enum ResidentMemory {
    /// How long a waiter waits before it gives its pages back: a sandbox that ends sooner
    /// (a short command) does not pay for faulting them in again on its way out, and one
    /// that is busy never does.
    public static let idleMilliseconds: Int32 = 100

    /// The program's loadable segments as whole pages (from the program headers the kernel
    /// passed in the auxiliary vector): read-only ones, given back whole, and writable ones,
    /// of which only the pages never written are (the process's own pagemap tells).
    /// Computed once.
    public static let programPages: ck_pages = {
        var pages = ck_pages()
        guard let headers = UnsafePointer<Elf64_Phdr>(bitPattern: UInt(ck_getauxval(UInt(AT_PHDR)))) else { return pages }
        let count = Int(ck_getauxval(UInt(AT_PHNUM)))
        // A position-independent program is loaded at an offset: AT_PHDR less PT_PHDR's address.
        var bias: UInt = 0
        for i in 0..<count where headers[i].p_type == UInt32(PT_PHDR) {
            bias = UInt(bitPattern: headers) &- UInt(headers[i].p_vaddr)
        }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        // Straight into the C struct: no array of tuples, whose metadata the runtime would
        // build (by demangling its name) in each process that comes here.
        for i in 0..<count where headers[i].p_type == UInt32(PT_LOAD) {
            let h = headers[i]
            let first = bias &+ UInt(h.p_vaddr), last = first &+ UInt(h.p_memsz)
            if h.p_flags & UInt32(PF_W) == 0 {
                // Whole pages inside the segment only: one it shares with a writable one stays.
                let start = (first &+ page &- 1) & ~(page &- 1), end = last & ~(page &- 1)
                if end > start { add(start, end, to: &pages.start, &pages.length, count: &pages.count) }
            } else {
                // Every page it touches: which may go is decided page by page.
                let start = first & ~(page &- 1), end = (last &+ page &- 1) & ~(page &- 1)
                if end > start { add(start, end, to: &pages.writable_start, &pages.writable_length, count: &pages.writable_count) }
            }
        }
        return pages
    }()

    /// Opens what the release of the writable segment needs, while this process can: its own
    /// `/proc/self/pagemap` is root's once the process is not dumpable, and the guest's
    /// once it is in the sandbox's mount namespace. Without it, only the read-only segments
    /// are given back. Each process calls it for itself (a fork's would read its parent's).
    /// It also computes `programPages`, which a fork made after it inherits.
    public static func prepare() {
        _ = programPages
        _ = ck_idle_prepare()
    }

    /// `poll(2)` without a time limit that gives the program's pages back after
    /// `idleMilliseconds` of nothing. Returns what poll returned.
    public static func poll(_ fds: UnsafeMutablePointer<pollfd>, count: Int) -> Int32 {
        withUnsafePointer(to: programPages) { ck_poll_idle(fds, UInt(count), idleMilliseconds, $0) }
    }
}

/// One range into a ck_pages pair of fixed arrays (CK_PAGES_MAX long); one past it is dropped.
private func add(_ start: UInt, _ end: UInt, to starts: inout (UInt, UInt, UInt, UInt), _ lengths: inout (Int, Int, Int, Int),
                 count: inout Int32) {
    let i = Int(count)
    guard i < Int(CK_PAGES_MAX) else { return }
    withUnsafeMutableBytes(of: &starts) { $0.storeBytes(of: start, toByteOffset: i * MemoryLayout<UInt>.stride, as: UInt.self) }
    withUnsafeMutableBytes(of: &lengths) { $0.storeBytes(of: Int(end - start), toByteOffset: i * MemoryLayout<Int>.stride, as: Int.self) }
    count += 1
}
