// Namespaces: user and mount always new; pid, ipc, net, uts and cgroup only when asked;
// --unshare-all and --share-net; the loopback-only network; the hostname; PID 1.
//
// A namespace is proven new (or shared) by comparing `readlink /proc/self/ns/NAME` inside
// with the test process's own. Without --unshare-pid, `--proc /proc` shows the host's proc,
// which still reports the sandboxed process's own namespaces.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite("Namespaces", .timeLimit(.minutes(1)))
struct NamespaceTests {
    let rootfs = Harness.sharedRootfs

    struct Namespace: Sendable, CustomTestStringConvertible {
        let name: String
        let flag: String
        var testDescription: String { name }
    }

    static let optional: [Namespace] = [
        Namespace(name: "pid", flag: "--unshare-pid"),
        Namespace(name: "ipc", flag: "--unshare-ipc"),
        Namespace(name: "net", flag: "--unshare-net"),
        Namespace(name: "uts", flag: "--unshare-uts"),
        Namespace(name: "cgroup", flag: "--unshare-cgroup"),
    ]

    /// `name → readlink /proc/self/ns/name` as the sandboxed shell saw it.
    func namespaces(_ extra: [String]) async -> (BurrowResult, [String: String]) {
        let r = await burrow(
            extra + ["--proc", "/proc", rootfs]
                + sh(#"for n in user mnt pid ipc net uts cgroup; do echo "$n $(readlink /proc/self/ns/$n)"; done"#))
        var seen: [String: String] = [:]
        for line in r.lines {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2, !parts[1].isEmpty { seen[parts[0]] = parts[1] }
        }
        return (r, seen)
    }

    @Test("User and mount namespaces are always new")
    func userAndMountAlwaysNew() async {
        let (r, seen) = await namespaces([])
        expectSuccess(r)
        for name in ["user", "mnt"] {
            #expect(seen[name] != nil, "no \(name) namespace reported:\n\(r)")
            #expect(seen[name] != hostNamespace(name), "the \(name) namespace is the host's:\n\(r)")
        }
    }

    @Test("Each optional namespace is new exactly when asked for", arguments: optional, [false, true])
    func optionalNamespace(_ ns: Namespace, unshared: Bool) async {
        let (r, seen) = await namespaces(unshared ? [ns.flag] : [])
        expectSuccess(r)
        #expect(seen[ns.name] != nil, "no \(ns.name) namespace reported:\n\(r)")
        if unshared {
            #expect(seen[ns.name] != hostNamespace(ns.name), "\(ns.flag) kept the host's \(ns.name) namespace:\n\(r)")
        } else {
            #expect(seen[ns.name] == hostNamespace(ns.name), "without \(ns.flag), the \(ns.name) namespace changed:\n\(r)")
        }
    }

    struct AllCase: Sendable, CustomTestStringConvertible {
        let args: [String]
        let shared: Set<String>
        var testDescription: String { args.joined(separator: " ") }
    }

    @Test("--unshare-all unshares all of them; --share-net after it keeps the host network", arguments: [
        AllCase(args: ["--unshare-all"], shared: []),
        AllCase(args: ["--unshare-all", "--share-net"], shared: ["net"]),
    ])
    func unshareAll(_ c: AllCase) async {
        let (r, seen) = await namespaces(c.args)
        expectSuccess(r)
        for ns in Self.optional {
            #expect(seen[ns.name] != nil, "no \(ns.name) namespace reported:\n\(r)")
            if c.shared.contains(ns.name) {
                #expect(seen[ns.name] == hostNamespace(ns.name), "the \(ns.name) namespace should be the host's:\n\(r)")
            } else {
                #expect(seen[ns.name] != hostNamespace(ns.name), "the \(ns.name) namespace should be new:\n\(r)")
            }
        }
    }

    struct NetCase: Sendable, CustomTestStringConvertible {
        let args: [String]
        var testDescription: String { args.joined(separator: " ") }
    }

    @Test("A new network namespace has only lo, up, with 127.0.0.1", arguments: [
        NetCase(args: ["--unshare-net"]), NetCase(args: ["--unshare-all"]),
    ])
    func loopbackOnly(_ c: NetCase) async {
        let r = await burrow(c.args + [rootfs] + sh("ip addr"))
        expectSuccess(r)
        #expect(interfaceNames(inIPOutput: r.stdout) == ["lo"], "only lo should exist:\n\(r)")
        let loLine = r.lines.first { $0.range(of: #"^\d+: lo:"#, options: .regularExpression) != nil } ?? ""
        let flags = loLine.split(separator: "<").dropFirst().first?.split(separator: ">").first ?? ""
        #expect(flags.split(separator: ",").contains("UP"), "lo should be UP: \(loLine)\n\(r)")
        expectStdout(r, contains: "inet 127.0.0.1")
    }

    @Test("The host network is kept by default and with --unshare-all --share-net", arguments: [
        NetCase(args: []), NetCase(args: ["--unshare-all", "--share-net"]),
    ])
    func hostNetwork(_ c: NetCase) async {
        let host = hostInterfaces()
        let r = await burrow(c.args + [rootfs] + sh("ip link"))
        expectSuccess(r)
        #expect(Set(interfaceNames(inIPOutput: r.stdout)) == host, "expected the host's interfaces \(host.sorted()):\n\(r)")
    }

    @Test("--hostname sets the hostname in a new UTS namespace", arguments: [
        NetCase(args: ["--unshare-uts"]), NetCase(args: ["--unshare-all"]),
    ])
    func hostname(_ c: NetCase) async {
        let before = hostHostname()
        let r = await burrow(c.args + ["--hostname", "burrow-test-host", rootfs] + sh("hostname; uname -n"))
        expectSuccess(r)
        expectLines(r, ["burrow-test-host", "burrow-test-host"])
        #expect(hostHostname() == before, "the host's hostname changed (was \(before))")
    }

    @Test("With --unshare-pid the command is not PID 1: a minimal init is")
    func commandIsNotPID1() async {
        let r = await burrow(
            ["--unshare-pid", "--proc", "/proc", rootfs]
                + sh("echo pid=$$; test -e /proc/1/status && echo has-pid-1; ls /proc | grep '^[0-9]*$'"))
        expectSuccess(r)
        let pid = r.lines.first { $0.hasPrefix("pid=") }.flatMap { Int32($0.dropFirst(4)) }
        #expect(pid != nil && pid != 1, "the command should not be PID 1:\n\(r)")
        #expect(pid.map { $0 >= 2 && $0 <= 9 } == true, "the command should be one of the first PIDs:\n\(r)")
        expectStdout(r, contains: "has-pid-1")
        let pids = r.lines.compactMap { Int32($0) }
        #expect(pids.contains(1) && pids.count <= 8, "expected PID 1 and only a few processes: \(pids)\n\(r)")
    }

    @Test("With --unshare-pid, zombies are reaped by PID 1")
    func initReapsOrphans() async {
        // An orphaned grandchild exits at once; after a moment no zombie may remain.
        // (busybox sh opens /dev/null for background jobs: hence --dev.)
        let r = await burrow(
            ["--unshare-pid", "--dev", "/dev", "--proc", "/proc", rootfs]
                + sh(
                    #"(sh -c 'echo orphan-ran' &) ; sleep 0.5; for s in /proc/[0-9]*/stat; do cut -d' ' -f3 "$s"; done | grep -c Z || true"#
                ))
        expectSuccess(r)
        expectStdout(r, contains: "orphan-ran")
        #expect(r.lines.last == "0", "zombies left in the PID namespace:\n\(r)")
    }
}

private func hostHostname() -> String {
    var buf = [CChar](repeating: 0, count: 256)
    gethostname(&buf, buf.count)
    return String(cString: buf)
}
