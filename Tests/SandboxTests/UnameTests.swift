import Testing

@testable import BurrowSandbox

@Suite("Faked uname (proot -k)") struct UnameTests {
    @Test("The plain form changes the release only")
    func plain() throws {
        let u = try FakeUname(parsing: "2.6.32")
        #expect(u.fields == [nil, nil, "2.6.32", nil, nil, nil] && u.hwcap == nil)
    }

    @Test("PRoot's full form sets every field and AT_HWCAP (hexadecimal)")
    func full() throws {
        let u = try FakeUname(parsing: "\\Linux\\box\\3.10.0\\#1 SMP\\armv7l\\(none)\\1f\\")
        #expect(u.fields == ["Linux", "box", "3.10.0", "#1 SMP", "armv7l", "(none)"])
        #expect(u.hwcap == 0x1f && u.release == "3.10.0")
        let empty = try FakeUname(parsing: "\\\\\\\\\\\\\\0\\")
        #expect(empty.fields == ["", "", "", "", "", ""] && empty.hwcap == 0)
    }

    @Test("Version codes as KERNEL_VERSION, from a release's leading numbers")
    func versionCodes() {
        #expect(FakeUname.versionCode("2.6.29") == 0x02061d)
        #expect(FakeUname.versionCode("6.18.44-fc-v1300") == 0x06122c)
        #expect(FakeUname.versionCode("5.10") == 0x050a00)
        #expect(FakeUname.versionCode("3.2.1000") == 0x0302ff)
        #expect(FakeUname.versionCode("abc") == nil)
    }

    @Test("Malformed forms are refused, naming what is missing", arguments: [
        ("", "1 to 64 bytes"), (String(repeating: "x", count: 65), "1 to 64 bytes"),
        ("\\Linux\\box\\3.10\\", "version"), ("\\a\\b\\c\\d\\e\\f\\", "hwcap"), ("\\a\\b\\c\\d\\e\\f\\zz\\", "hexadecimal"),
    ])
    func malformed(_ text: String, message: String) {
        #expect(throws: FakeUname.ParseError.self) { try FakeUname(parsing: text) }
        do { _ = try FakeUname(parsing: text) } catch { #expect(error.message.contains(message), "\(error.message)") }
    }

    @Test("Applied to a struct utsname: set fields replaced and NUL-padded, others kept; long fields cut to 64")
    func apply() throws {
        var bytes = [UInt8](repeating: UInt8(ascii: "r"), count: 6 * 65)
        try FakeUname(parsing: "\\S\\\(String(repeating: "n", count: 70))\\R\\V\\M\\D\\0\\").apply(toUtsname: &bytes)
        #expect(bytes[0] == UInt8(ascii: "S") && bytes[1] == 0 && bytes[64] == 0)
        #expect(bytes[65 + 63] == UInt8(ascii: "n") && bytes[65 + 64] == 0)
        var plain = [UInt8](repeating: UInt8(ascii: "r"), count: 6 * 65)
        FakeUname(release: "9").apply(toUtsname: &plain)
        #expect(plain[0] == UInt8(ascii: "r") && plain[130] == UInt8(ascii: "9") && plain[131] == 0 && plain[195] == UInt8(ascii: "r"))
    }

    @Test("ELF headers of QEMU's target are recognised", arguments: [
        ("aarch64", [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 183, 0] as [UInt8], true),
        ("aarch64", [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 62, 0], false),
        ("arm", [0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 40, 0], true),
        ("ppc64", [0x7f, 0x45, 0x4c, 0x46, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 21], true),
        ("aarch64", [0x23, 0x21, 0x2f], false),
    ])
    func elf(_ arch: String, _ header: [UInt8], _ matches: Bool) throws {
        let target = try #require(Qemu.target(ofProgram: "qemu-\(arch)"))
        #expect(target.matches(elfHeader: header) == matches)
    }
}
