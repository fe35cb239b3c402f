import Testing
@testable import BurrowSandbox

private func dest(_ s: String) -> GuestPath { (try? GuestPath(parsing: s)) ?? .root }

/// What setuid mode refuses, and the environment it keeps: pure tables.
struct SetuidPolicyTests {
    static func spec(_ edit: (inout SandboxSpec) -> Void) -> SandboxSpec {
        var s = SandboxSpec(root: RootFS(path: HostPath("/r")))
        edit(&s)
        return s
    }

    static let uid: UInt32 = 1000, gid: UInt32 = 1000

    @Test("Refused in setuid mode, with the reason", arguments: [
        (spec { $0.identity.uid = 0 }, "uid 0 is refused in setuid mode"),
        (spec { $0.identity.uid = 1001 }, "uid 1001 is not yours"),
        (spec { $0.identity.gid = 0 }, "gid 0 is refused"),
        (spec { $0.identity.uidMap = [IDMap(inside: 0, outside: 1000, count: 1)] }, "uid map/gid map are refused"),
        (spec { $0.identity.gidMap = [IDMap(inside: 0, outside: 1000, count: 1)] }, "nothing to map"),
        (spec { $0.root.overlay = .discard }, "a discarded overlay over the root is refused in setuid mode: overlayfs"),
        (spec { $0.root.overlay = .keep(changes: HostPath("/c")) }, "an overlay over the root is refused"),
        (spec { $0.operations = [.filesystem(FilesystemMount(type: "ext4", source: "/dev/sda1", destination: dest("/mnt")))] },
         "mounting an ext4 filesystem on /mnt is refused in setuid mode"),
        (spec { $0.operations = [.filesystem(FilesystemMount(type: "overlay", source: "x", destination: dest("/o")))] }, "overlay filesystem"),
        (spec { $0.operations = [.filesystem(FilesystemMount(type: "fuse", source: "x", destination: dest("/f")))] }, "fuse filesystem"),
        (spec { $0.operations = [.overlay(OverlayMount(layers: [HostPath("/l")], changes: .discarded, destination: dest("/o")))] },
         "mounting an overlay filesystem on /o is refused in setuid mode"),
        (spec { $0.emulation.qemu = QemuEmulation(command: ["qemu-aarch64"]) }, "QEMU is refused in setuid mode"),
        (spec { $0.operations = [.filesystem(FilesystemMount(type: "mqueue", source: "mqueue", destination: dest("/q")))] },
         "needs a new IPC namespace"),
    ])
    func refuses(spec: SandboxSpec, fragment: String) {
        let refusal = spec.setuidRefusal(callerUid: Self.uid, callerGid: Self.gid)
        #expect(refusal?.message.contains(fragment) == true, "\(String(describing: refusal))")
    }

    @Test("PRoot's recommended /proc bind becomes the sandbox's own procfs; a /proc bind asked for by name stays (and is refused when run)")
    func recommendedProcBind() {
        var recommended = BindMount(source: HostPath("/proc"), destination: dest("/proc"), allowDevices: true, optional: true)
        recommended.optionalDestination = true
        var other = recommended
        other.source = HostPath("/etc")
        other.destination = dest("/etc")
        let named = BindMount(source: HostPath("/proc"), destination: dest("/hostproc"))
        let s = Self.spec { $0.operations = [.bind(other), .bind(recommended), .bind(named)] }
        #expect(s.withOwnProcfsForRecommendedBinds().operations == [.bind(other), .proc(dest: dest("/proc")), .bind(named)])
    }

    @Test("Allowed in setuid mode", arguments: [
        spec { _ in },
        spec { $0.identity.uid = 1000; $0.identity.gid = 1000 },
        spec {
            $0.namespaces = .all
            $0.process.hostname = "box"
            $0.operations = [
                .bind(BindMount(source: HostPath("/src"), destination: dest("/src"), readOnly: true)),
                .bind(BindMount(source: HostPath("/dev/null"), destination: dest("/n"), allowDevices: true)),
                .tmpfs(dest: dest("/tmp"), sizeBytes: 1 << 20, mode: 0o1777), .proc(dest: dest("/proc")),
                .dev(dest: dest("/dev")), .mqueue(dest: dest("/dev/mqueue")), .dir(dest: dest("/d"), mode: nil),
                .symlink(target: "x", dest: dest("/l")), .remountReadOnly(dest: dest("/src")),
            ]
        },
        spec {
            $0.namespaces.ipc = true
            $0.operations = ["proc", "sysfs", "tmpfs", "devpts", "mqueue"].map {
                .filesystem(FilesystemMount(type: $0, source: $0, destination: dest("/" + $0)))
            }
        },
    ])
    func allows(spec: SandboxSpec) {
        #expect(spec.setuidRefusal(callerUid: Self.uid, callerGid: Self.gid) == nil)
    }

    @Test("The environment a setuid burrow keeps", arguments: [
        ("PATH", "/usr/bin:/bin", true), ("HOME", "/home/u", true), ("TERM", "xterm", true), ("LANG", "C.UTF-8", true),
        ("LC_ALL", "C", true), ("LC_CTYPE", "C.UTF-8", true), ("TZ", "UTC", true), ("BURROW_ENGINE", "auto", true), ("BURROW_FAKE_DB", "/home/u/owners", true),
        ("LD_PRELOAD", "/x.so", false), ("LD_LIBRARY_PATH", "/x", false), ("LD_AUDIT", "/x.so", false),
        ("GCONV_PATH", "/x", false), ("TMPDIR", "/x", false), ("MALLOC_CHECK_", "3", false),
        ("MALLOC_PERTURB_", "1", false), ("GLIBC_TUNABLES", "glibc.malloc.check=3", false), ("LOCPATH", "/x", false),
        ("NLSPATH", "/x", false), ("HOSTALIASES", "/etc/shadow", false), ("RESOLV_HOST_CONF", "/x", false),
        ("SWIFT_BACKTRACE", "enable=yes", false), ("SWIFT_DEBUG_ENABLE_METADATA_ALLOCATION_ITERATION", "1", false),
        ("IFS", " ", false), ("ENV", "/x", false), ("BASH_ENV", "/x", false), ("LC_", "x", false),
        ("TERM", "x\u{1b}]0;title\u{7}", false), ("PATH", String(repeating: "x", count: 5000), false),
    ])
    func keeps(name: String, value: String, kept: Bool) {
        #expect(SetuidPolicy.keeps(name, value: value) == kept)
    }

    @Test func safeEnvironmentKeepsOrderAndFirstOfDuplicates() {
        let env = [("LD_PRELOAD", "/x"), ("PATH", "/bin"), ("TMPDIR", "/t"), ("TERM", "vt100"), ("PATH", "/evil")]
        let kept = SetuidPolicy.safeEnvironment(env)
        #expect(kept.map(\.0) == ["PATH", "TERM"])
        #expect(kept.map(\.1) == ["/bin", "vt100"])
    }
}
