import Testing
@testable import BurrowSpec

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
