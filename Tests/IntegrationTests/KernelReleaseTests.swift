// A fake kernel release (proot -k, burrow --kernel-release) on the namespace engine: uname
// answered through seccomp user notification, /proc/sys/kernel/osrelease bound over.

import Foundation
import Testing

@Suite("Fake kernel release", .timeLimit(.minutes(3)))
struct KernelReleaseTests {
    let rootfs = Harness.sharedRootfs

    @Test("proot -k and --kernel-release=: uname -r and -a show the release, other fields stay real",
          arguments: [["-k", "2.6.32-fake"], ["--kernel-release=2.6.32-fake"]])
    func prootUname(option: [String]) async {
        let real = await proot(["-r", rootfs, "uname", "-m"])
        let r = await proot(option + ["-r", rootfs] + sh("uname -r; uname -m; uname -s"))
        expectSuccess(r)
        expectLines(r, ["2.6.32-fake", real.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "Linux"])
    }

    @Test("With /proc (proot -R), /proc/sys/kernel/osrelease shows the release too")
    func prootOSRelease() async {
        let r = await proot(["-k", "3.1.4", "-R", rootfs] + sh("cat /proc/sys/kernel/osrelease; uname -r"))
        expectSuccess(r)
        expectLines(r, ["3.1.4", "3.1.4"])
    }

    @Test("burrow --kernel-release with a fresh /proc in a PID namespace, as root inside too",
          arguments: [[String](), ["--root"]])
    func burrowOption(extra: [String]) async {
        let r = await burrow(extra + ["--kernel-release", "9.9.9-burrow", "--unshare-pid", "--proc", "/proc", rootfs]
                             + sh("uname -r; cat /proc/sys/kernel/osrelease"))
        expectSuccess(r)
        expectLines(r, ["9.9.9-burrow", "9.9.9-burrow"])
    }

    @Test("PRoot's full form: every uname field; osrelease shows the release")
    func fullForm() async {
        let r = await burrow(["--kernel-release", "\\Plan9\\box\\2.6.32\\#7 SMP\\mips\\home\\1f\\", "--unshare-pid", "--proc", "/proc", rootfs]
                             + sh("uname -s; uname -n; uname -r; uname -v; uname -m; cat /proc/sys/kernel/osrelease"))
        expectSuccess(r)
        expectLines(r, ["Plan9", "box", "2.6.32", "#7 SMP", "mips", "2.6.32"])
    }

    @Test("Children and subshells of the command inherit it; the command's status is kept")
    func inherited() async {
        let r = await burrow(["--kernel-release", "4.0.0-x", rootfs]
                             + sh("sh -c 'uname -r'; (uname -r); exit 5"))
        expectStatus(r, 5)
        expectLines(r, ["4.0.0-x", "4.0.0-x"])
    }

    @Test("proot -k waits for background jobs and returns the last one's status (the responder does not count)")
    func lastToExitIgnoresResponder() async {
        let r = await proot(["-k", "1.2.3", "-r", rootfs, "-b", "/dev"] + sh("(sleep 0.3; uname -r; exit 6) & exit 2"))
        expectStatus(r, 6)
        expectLines(r, ["1.2.3"])
    }

    @Test("--keep-children: burrow ends once the command's leftovers are gone, not waiting on the responder")
    func keepChildrenEnds() async {
        let r = await burrow(["--kernel-release", "1.0", "--keep-children", "--dev", "/dev", rootfs]
                             + sh("(sleep 0.2; echo late) & echo early"), timeout: 20)
        expectSuccess(r)
        expectLines(r, ["early", "late"])
    }

    @Test("A release longer than uname's 64 bytes is refused", arguments: [
        ["--kernel-release", String(repeating: "x", count: 65)], ["--kernel-release", ""],
    ])
    func tooLong(args: [String]) async {
        let r = await burrow(args + [rootfs, "true"])
        expectStatus(r, 125)
        #expect(r.stderr.contains("1 to 64 bytes"), "stderr: \(r.stderr)")
    }
}
