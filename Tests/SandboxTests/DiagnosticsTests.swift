import Testing
@testable import BurrowSandbox

struct DiagnosticsTests {
    @Test(arguments: [
        (nil, "rootfs", "/srv/root"),
        (OptionArguments(option: "--bind", metavars: ["SRC", "DEST"], values: ["/etc", "/srv/root"]),
         "--bind takes SRC DEST: here SRC=/etc DEST=/srv/root, so '/srv/root' was taken as the rootfs", ""),
        (OptionArguments(option: "--tmpfs", metavars: ["DEST"], values: ["/tmp"]),
         "--tmpfs takes DEST: here DEST=/tmp, so '/srv/root' was taken as the rootfs", ""),
    ] as [(OptionArguments?, String, String)])
    func rootfsOpenFailure(_ taken: OptionArguments?, _ operation: String, _ subject: String) {
        var root = RootFS(path: HostPath("/srv/root"))
        root.takenAfter = taken
        #expect(root.openFailure.operation == operation)
        #expect(root.openFailure.subject == subject)
    }
}

struct CommandNotFoundTests {
    @Test(arguments: [
        (["/bin/sh"], true, "/bin/sh is looked for inside the rootfs /srv/root, not on the host (and so are a script's #! interpreter and a program's ELF loader)"),
        (["ls", "-l"], true, "ls is looked for along PATH inside the rootfs /srv/root, not on the host (and so are a script's #! interpreter and a program's ELF loader)"),
        (["/bin/sh"], false, "/bin/sh is looked for inside the rootfs /srv/root, not on the host (and so are a script's #! interpreter and a program's ELF loader)\n/srv/root has no /bin: is it a root file system? scripts/make-rootfs DIR, in Burrow's source, makes a busybox one"),
    ])
    func hint(_ argv: [String], _ rootHasBin: Bool, _ expected: String) {
        var spec = SandboxSpec(root: RootFS(path: HostPath("/srv/root")))
        spec.process.argv = argv
        #expect(spec.commandNotFoundHint(rootHasBin: rootHasBin) == expected)
    }
}
