import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// The behaviours PRoot 5.4's own test suite checks (scripts/proot-suite runs that suite
// itself), each as one command run side by side under upstream PRoot 5.4 and under Burrow's
// proot name, on the ptrace engine and with the default engine choice: the same output and
// status. Commands run from a directory the test user owns, with the host as the rootfs
// unless the case says otherwise.

extension PRootFixtures {
    /// Upstream PRoot 5.4 (../shared/anchors/build-proot builds it; scripts/test exports
    /// BURROW_TEST_PROOT54).
    static let proot54: String = {
        let env = ProcessInfo.processInfo.environment["BURROW_TEST_PROOT54"] ?? ""
        return env.isEmpty ? "/var/tmp/burrow-tools/bin/proot-5.4.0" : env
    }()
    static var proot54Present: Bool { FileManager.default.isExecutableFile(atPath: proot54) }
}

/// How `proot` is run for a parity case.
enum PRootUnderTest: String, CaseIterable, Sendable {
    case upstream = "PRoot 5.4"
    case ptrace = "burrow (ptrace)"
    case auto = "burrow (auto)"
}

/// Runs `script` with `sh -c` as the test user in `dir`, with `$PROOT` naming the proot under
/// test (and `$D` the directory): the script calls it as PRoot's suite does.
func prootScript(_ script: String, in dir: String, under which: PRootUnderTest, rootfs: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) async -> BurrowResult {
    var env = PRootFixtures.environment
    env["D"] = dir
    env["R"] = rootfs
    env["PROBE"] = SysProbe.path() ?? "sysprobe-missing"
    env["PROBE32"] = I386Probes.abiProbe() ?? "abiprobe32-missing"
    switch which {
    case .upstream: env["PROOT"] = PRootFixtures.proot54
    case .ptrace:
        env["PROOT"] = PRootFixtures.burrowProot
        env["BURROW_ENGINE"] = "ptrace"
    case .auto: env["PROOT"] = PRootFixtures.burrowProot
    }
    let argv = asTestUser(["/usr/bin/env", "-C", dir, "/bin/sh", "-c", script])
    do {
        let p = try spawn(argv, environment: env)
        return await p.wait(timeout: 60, sourceLocation: sourceLocation)
    } catch {
        Issue.record("cannot start sh: \(error)", sourceLocation: sourceLocation)
        return BurrowResult(argv: argv, status: -1, signal: nil, stdout: "", stderr: "\(error)", timedOut: false)
    }
}

@Suite("proot name: the same as PRoot 5.4 (its own suite's behaviours)", .timeLimit(.minutes(3)))
struct PRoot54ParityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        /// Run once per proot, in a fresh directory; `$PROOT` is the proot under test,
        /// `$PROBE` Tests/Helpers/sysprobe.c.
        let script: String
        /// Burrow's runs compared with PRoot's (where the default engine differs on purpose,
        /// the case says why).
        var ours: [PRootUnderTest] = [.ptrace, .auto]
        /// A busybox rootfs of the test user's own at `$R` (a copy per run).
        var rootfs = false
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // test-11111111, -88888888, -cccccccc, -cb1143ab, -a8e69d6f: what follows a
        // component is the kernel's business even where the path is translated: `file/..`
        // is ENOTDIR, `link/.` follows the link, `dir/.` cannot be removed.
        Case(name: "a component followed by / . or .. must be a directory", script: """
            touch f; mkdir d; ln -s f lf; ln -s d ld; ln -s $D/d abs
            for p in f/.. f/. f/ lf/ lf/. lf/.. d/.. d/. ld/. ld/.. missing/.. abs/. abs/..; do
                for q in $p $D/$p; do
                    $PROOT cat $q >/dev/null 2>&1; c=$?; $PROOT readlink $q >/dev/null 2>&1; echo "$p $c $?"
                done
            done
            $PROOT rmdir $D/d/.; echo "rmdir d/. $?"; $PROOT rmdir $D/d/./; echo "rmdir d/./ $?"; $PROOT rmdir $D/d; echo "rmdir d $?"
            """),
        // test-99999999, -dfb0c3b6, -25069c12: with the host as the rootfs, /proc/self is the
        // guest process (its exe, its fds), not the tracer.
        Case(name: "/proc/self of the host's /proc names the guest process", script: """
            $PROOT readlink /proc/self/exe; $PROOT sh -c 'readlink /proc/self/exe'; $PROOT readlink /proc/1/../self/exe
            $PROOT readlink /proc/self | grep -c '^[0-9][0-9]*$'; $PROOT readlink /proc/self/../self | grep -c '^[0-9][0-9]*$'
            for p in /proc/self/exe/ /proc/self/exe/.. /proc/self/exe/../exe /proc/self/..; do $PROOT readlink $p; echo "$p $?"; done
            $PROOT sh -c 'echo OK | readlink /proc/self/fd/0' | sed 's/[0-9]//g'
            $PROOT sh -c 'echo OK | readlink /proc/self/fd/0/..'; echo "fd/0/.. $?"
            $PROOT sh -c 'echo "echo OK" | sh /proc/self/fd/0'
            $PROOT md5sum /proc/self/exe | cut -d ' ' -f 1; md5sum $(command -v md5sum) | cut -d ' ' -f 1
            """),
        // test-commmmmm, -b6df3cbe: a program keeps its own name and command line (the
        // kernel's for a script: its file name, the interpreter and the script's path).
        Case(name: "a program's comm and cmdline are its own", script: """
            $PROOT cat /proc/self/comm; $PROOT $(command -v cat) /proc/self/comm
            printf '%s\\n' '#!/bin/sh' 'cat /proc/$$/comm; xargs -0 echo < /proc/$$/cmdline' > script-name-longer-than-15
            chmod +x script-name-longer-than-15
            ln -s script-name-longer-than-15 link-to-the-script
            $PROOT sh -c ./script-name-longer-than-15; $PROOT sh -c ./link-to-the-script; $PROOT $D/script-name-longer-than-15 | sed "s|$D|D|"
            """),
        // test-xxxxxxxx: a file neither ELF nor script is ENOEXEC before the kernel reads
        // envp. (Natively, and so on the namespace engine, a bad envp is EFAULT first.)
        Case(name: "execve of a text file is ENOEXEC, whatever envp", script: """
            echo 'not a program' > text; chmod 700 text; $PROOT $PROBE execve_text=$D/text
            """, ours: [.ptrace]),
        // test-5467b986: a directory bound at two places is the one -w named.
        Case(name: "getcwd names the guest path -w gave the working directory", script: """
            mkdir d a b; for w in a b; do
                $PROOT -w $D/$w -b $D/d:$D/a -b $D/d:$D/b pwd; $PROOT -w $D/$w -b $D/d:$D/b -b $D/d:$D/a /bin/pwd -P
            done | sed "s|$D|D|"
            """),
        // test-oooooooo: processes killed by a signal do not count for the status.
        Case(name: "the status is the last exit's, a process killed by a signal not counting", script: """
            $PROOT sh -c 'sh -c "i=0; while [ \\$i -lt 30000 ]; do i=\\$((i+1)); done; kill -9 \\$\\$" & exit 3'; echo "status $?"
            """),
        // test-03969e70, -691786c8, -092c5e26: PRoot's which (no PATH: no search; a path
        // taken in its canonical directory) and execvp (a file without a format is a shell
        // script).
        Case(name: "the command is found and started as PRoot's which and execvp do", script: """
            env PATH= $PROOT -w /bin true 2>/dev/null; echo "empty PATH $?"
            env -u PATH $PROOT -w /bin true 2>/dev/null; echo "no PATH $?"
            env -u PATH $PROOT -w /bin ./true; echo "./true $?"; env PATH= $PROOT -w / ../bin/./true; echo "../bin/./true $?"
            $PROOT /nonexistent 2>/dev/null; echo "missing $?"; $PROOT /etc/passwd 2>/dev/null; echo "not executable $?"
            printf '%s\\n' '#!   ' 'echo no interpreter: run by sh' > blank; chmod +x blank; $PROOT ./blank; echo "blank $?"
            echo 'echo no shebang: $0' > plain; chmod +x plain; $PROOT ./plain | sed "s|$D|D|"
            printf '%s\\n' '#!/bin/sh' 'xargs -0 echo < /proc/$$/cmdline' > script; chmod +x script
            $PROOT ./script | sed "s|$D|D|"; env PATH=$D $PROOT script | sed "s|$D|D|"
            """),
        // test-de756935: PWD is the guest's working directory (bash trusts an inherited PWD
        // that names the same directory, and the caller's does).
        Case(name: "PWD names the working directory in the guest", script: """
            mkdir d e; cd d; $PROOT -b $D/d:$D/e -w $D/e bash -c pwd | sed "s|$D|D|"
            $PROOT -w /usr/./bin sh -c 'echo $PWD'
            """),
        // test-3624be91: the guest signalling its tracer does not end the sandbox. (On the
        // namespace engine the guest has no tracer: TracerPid is 0, and `kill 0` is the
        // guest's own process group.)
        Case(name: "a signal from the guest to its tracer is ignored", script: """
            $PROOT sh -c 'kill -15 $(grep TracerPid /proc/self/status | cut -f 2 -d :); echo "alive $?"'; echo "status $?"
            """, ours: [.ptrace]),
        // test-22222222, -8e5fa256: a symlink of a bind (outside the rootfs) whose text names
        // a host path in that bind names the bind's guest path instead, in readlink and when
        // followed.
        Case(name: "symlinks in a bind name its guest paths", script: """
            mkdir src; echo in-bind > src/target; ln -s $D/src/target src/abs; ln -s target src/rel; ln -s /etc/hostname src/out
            for l in abs rel out; do $PROOT -r $R -b $D/src:/dst readlink /dst/$l; done
            $PROOT -r $R -b $D/src:/dst cat /dst/abs; $PROOT -r $R -b $D/src:/dst sh -c 'cd /dst; readlink abs; cat abs'
            $PROOT -b $D/src:$D/dst readlink $D/dst/abs | sed "s|$D|D|"
            """, rootfs: true),
        // test-654decce, -e940896f, -gggggggg, -55fd1da5: a bind destination the guest lacks
        // is shown with the directories on the way, made in the rootfs where it can be (and
        // removed afterwards), else without changing it (always with
        // PROOT_DONT_POLLUTE_ROOTFS); a directory that exists does not list it.
        Case(name: "a missing bind destination is shown, the rootfs unchanged", script: """
            mkdir -p ro/x w; echo content > file; chmod 555 ro
            $PROOT -b $D/file:$D/ro/a/b/c sh -c "ls $D/ro/a/b; cat $D/ro/a/b/c; test -d $D/ro/a && echo dir; ls $D/ro"
            $PROOT -b /etc:$D/ro/etc ls -d $D/ro/etc/. | sed "s|$D|D|"
            env PROOT_DONT_POLLUTE_ROOTFS=1 $PROOT -b /bin:$D/w/dont/create sh -c "test -e $D/w/dont && echo exists; ls $D/w"
            $PROOT -b /bin:$D/w/made/here ls $D/w; ls $D/w; chmod 755 ro
            """),
        // test-aaaaaaaa: the rootfs is the binding of /, -r and -b X:/ alike: the later wins.
        Case(name: "-b X:/ and -r X set the rootfs, the later one wins", script: """
            $PROOT -r / -b /etc:/ true 2>/dev/null; echo "/etc as / $?"; $PROOT -b /etc:/ -r / true; echo "/ as / $?"
            $PROOT -b /etc:/ true 2>/dev/null; echo "/etc as / $?"; $PROOT -r /etc -r / true; echo "last -r $?"
            """),
        // test-82ba4ba1: -0 and -i fake the ids a program starts with (its auxiliary vector
        // too) and what only root may do (chroot to /, chown).
        Case(name: "-0 and -i: ids in the auxiliary vector, chroot and chown as that user", script: """
            for o in "-i 123:456" -0; do
                $PROOT $o env LD_SHOW_AUXV=1 /bin/true | grep -E '^AT_E?[UG]ID:' | tr -s ' '
                $PROOT $o chroot / /bin/true 2>/dev/null; echo "chroot / $?"; $PROOT $o chroot /tmp/.. /bin/true 2>/dev/null; echo "chroot /tmp/.. $?"
                $PROOT $o chroot /tmp /bin/true 2>/dev/null; echo "chroot /tmp $?"; $PROOT $o chown root:root /root 2>/dev/null; echo "chown $?"
            done
            """),
        // test-e99993c8: a release longer than uname's 64 bytes is cut.
        Case(name: "-k with a release longer than 64 bytes", script: """
            $PROOT -k $(uname -r)-3.33.333 uname -r | sed "s|$(uname -r)|R|"
            $PROOT -k 0123456789012345678901234567890123456789012345678901234567890123456789 uname -r
            """),
        // test-5996858d, -071599da: -k's full form sets every field and AT_HWCAP; a faked root
        // may set the host and domain names, which uname then says; the vDSO, whose note
        // names the real release, is not announced.
        Case(name: "-k: the full form, the names a faked root sets, no vDSO", script: """
            U='\\sysname\\nodename\\1.2.3\\version\\machine\\domainname\\0\\'
            $PROOT -k $U uname -s -n -r -v -m; $PROOT -k $U domainname; $PROOT -k $U env LD_SHOW_AUXV=1 true | grep AT_HWCAP | tr -s ' '
            $PROOT -0 -k $U sh -c 'domainname d2; domainname; hostname h2; hostname; uname -n'
            $PROOT -k 1.2.3 env LD_SHOW_AUXV=1 true | grep -c AT_SYSINFO
            for r in 1.2.3 2.6.29 $(uname -r); do env PROOT_FORCE_KOMPAT=1 $PROOT -k $r env LD_SHOW_AUXV=1 true | tail -1 | cut -d : -f 1; done
            env PROOT_FORCE_KOMPAT=1 $PROOT -k 1.2.3 sh -c 'echo "$# $*"; uname -r' zero one two
            """),
        // test-cb1143ab, -aaaaaaaa: a directory bound on a file, a bind through a dangling
        // symlink (no mount can do either).
        Case(name: "binds no mount can make: a directory on a file, through a dangling symlink", script: """
            mkdir dir; touch file; echo in-dir > dir/f; echo src > src; ln -s $D/missing link
            $PROOT -b $D/dir:$D/file sh -c "ls $D/file; cat $D/file/f"
            $PROOT -b $D/src:$D/link cat $D/missing; $PROOT -b $D/src:$D/link! cat $D/link; ls $D
            """),
        // test-python01 (which looks for -p in --help): PRoot 5.4's port map at bind.
        Case(name: "-p IN:OUT changes the port a socket is bound to", script: """
            $PROOT --help | grep -c -- '-p \\*string\\*'
            for v in 4 6; do
                $PROOT -p 45432:45433 -p 45440:45441 python3 -c "import socket; s = socket.socket(socket.AF_INET$( [ $v = 6 ] && echo 6 ), \\
                    socket.SOCK_STREAM); s.bind(('::1' if '$v' == '6' else '127.0.0.1', 45432)); print(s.getsockname()[1])"
            done
            """),
        // test-killexit: with --kill-on-exit the guest's processes end with the command (its
        // status), else proot waits for them.
        Case(name: "--kill-on-exit ends what the command leaves behind", script: """
            $PROOT --kill-on-exit sh -c 'setsid sh -c "sleep 1; echo late >> $D/out" & echo early; exit 4'; echo "status $?"
            sleep 1.5; cat out 2>/dev/null; echo waited
            $PROOT sh -c 'sh -c "sleep 0.5; echo late >> $D/out2" & exit 4'; echo "status $?"; cat out2
            """),
        // test-tempdire: PROOT_TMP_DIR must be a directory the caller can write.
        Case(name: "PROOT_TMP_DIR that cannot be written is refused", script: """
            mkdir t; chmod 555 t; env PROOT_TMP_DIR=$D/t $PROOT true 2>/dev/null; echo "read-only $?"
            chmod 755 t; env PROOT_TMP_DIR=$D/t $PROOT true; echo "writable $?"
            env PROOT_TMP_DIR=$D/t $PROOT -b /etc:$D/t/x/y ls $D/t/x; ls t
            """),
        // test-e87ca6ca, -d1be631a: what only root may do (capset, file capabilities, a
        // device node) succeeds for -0, not for another faked user.
        Case(name: "-0 may set file capabilities and make device nodes", script: """
            cp $(command -v true) t; $PROOT -i 123:456 setcap cap_setuid+ep $D/t 2>/dev/null; echo "setcap as 123 $?"
            $PROOT -0 setcap cap_setuid+ep $D/t; echo "setcap as root $?"
            $PROOT -i 123:456 mknod $D/b b 1 1 2>/dev/null; echo "mknod as 123 $?"; $PROOT -0 mknod $D/b b 1 1; echo "mknod as root $?"
            """),
        // test-2401b850, -092c5e26, -517e1d6b: PRoot's -q: any program as QEMU, its words as
        // arguments; whatever is not a host ELF file runs through it (all of them with
        // PROOT_FORCE_FOREIGN_BINARY), the guest's LD_* variables passed as -E (-U
        // LD_LIBRARY_PATH without one); host programs get the host's libraries in
        // LD_LIBRARY_PATH; /proc/self/exe is the guest program.
        Case(name: "-q: QEMU's arguments, what runs through it, the loader's variables", script: """
            unset LD_LIBRARY_PATH; touch f; chmod +x f; printf '#!%s\\n' $D/f > s; chmod +x s
            $PROOT -q true $D/f; echo "true $?"; $PROOT -q false $D/f; echo "false $?"
            (cd /; $PROOT -q ./$(command -v true | cut -c 2-) $D/f; echo "relative $?")
            { $PROOT -q 'echo --' $D/f; $PROOT -q 'echo --' env LD_LIBRARY_PATH=one $D/f; $PROOT -q 'echo --' $D/s
              env LD_LIBRARY_PATH=two $PROOT -q 'echo --' sh -c $D/f; env LD_LIBRARY_PATH=two $PROOT -q 'echo --' env LD_LIBRARY_PATH=three $D/f
              env PROOT_FORCE_FOREIGN_BINARY=1 $PROOT -q 'echo --' /bin/true; } | sed "s|$D|D|g"
            $PROOT -q 'echo --' env | grep -c '^LD_LIBRARY_PATH=/host-rootfs/'
            $PROOT -q 'echo --' env LD_TRACE_LOADED_OBJECTS=1 $D/f | sed -e "s|$D|D|g" -e 's|LD_LIBRARY_PATH=[^ ]*|LD_LIBRARY_PATH=HOST|'
            """),
        // test-230f47ch, -d92b57ca: proot inside proot (on the ptrace engine the inner one's
        // seccomp stops reach it through the emulated ptrace).
        Case(name: "proot in proot: each one's -0, -i and -k hold", script: """
            K=$(uname -r)-3.33.333
            { $PROOT $PROOT -0 id -u; $PROOT $PROOT -i 123:456 id -u; $PROOT $PROOT -k $K uname -r
              $PROOT -0 $PROOT id -u; $PROOT -i 123:456 $PROOT id -u; $PROOT -k $K $PROOT uname -r
              $PROOT -0 $PROOT -k $K id -u; $PROOT -0 $PROOT -k $K uname -r; $PROOT -k $K $PROOT -i 123:456 id -u
              env PROOT_NO_SUBRECONF=1 $PROOT $PROOT true; echo "nested $?"; } | sed "s|$K|K|"
            """),
        // test-1fedd9a3: -0 reaches the caller's own files whatever their modes (opened for
        // the time of each call), and its chmod sets the host file's permission bits.
        Case(name: "-0 reaches the caller's files whatever their modes; chmod is the host's", script: """
            mkdir -p t/foo; chmod 0 t/foo t
            $PROOT touch $D/t/foo/bar 2>/dev/null; echo "as you $?"; $PROOT -i 123:456 touch $D/t/foo/bar 2>/dev/null; echo "as 123 $?"
            $PROOT -0 touch $D/t/foo/bar; echo "as root $?"; stat -c %a t; $PROOT -0 stat -c %a $D/t/foo
            chmod -R u+rwx t; chmod 0 t/foo/bar t/foo t; $PROOT -0 chmod g+w $D/t/foo/bar; echo "chmod $?"
            chmod u+wx t; chmod u+x t/foo; stat -c %a t/foo/bar t/foo t
            chmod -R u+rwx t; rm -r t; mkdir -p t/foo; chmod 0 t; $PROOT -i 123:456 rm -fr $D/t 2>/dev/null; echo "rm as 123 $?"
            $PROOT -0 rm -fr $D/t; echo "rm as root $?"; ls
            """),
        // i386 programs (Tests/Helpers/abiprobe.c built -m32, `$PROBE32`) in the guest: paths
        // translated as for x86_64 ones, through a bind too, and exec either way.
        Case(name: "an i386 program reads, stats, follows a bind, getcwd, readlink and exec in the guest", script: """
            cp $PROBE32 $R/bin/p32; echo guest > $R/etc/greeting; ln -s /etc/greeting $R/etc/link
            mkdir src; echo bound > src/f; ln -s $D/src/f src/abs
            $PROOT -r $R /bin/p32 cat /etc/greeting; $PROOT -r $R /bin/p32 stat /etc/greeting; $PROOT -r $R /bin/p32 stat64 /etc/greeting
            $PROOT -r $R -b $D/src:/mnt /bin/p32 cat /mnt/f; $PROOT -r $R -b $D/src:/mnt /bin/p32 readlink /mnt/abs
            $PROOT -r $R -w /etc /bin/p32 cwd; $PROOT -r $R -b $D/src:/mnt /bin/p32 cwd /mnt
            $PROOT -r $R /bin/p32 readlink /etc/link
            $PROOT -r $R /bin/p32 exec /bin/p32 cat /etc/greeting; $PROOT -r $R /bin/p32 exec /bin/cat /etc/link
            $PROOT -r $R sh -c '/bin/p32 cwd /etc'
            $PROOT -r $R /bin/p32 cat $D/src/f 2>/dev/null; echo "host file $?"
            """, rootfs: true),
        // proot -0 and -i: the faked ids of getuid32 and friends (and of old binaries' 16-bit
        // getuid), and the owner stat64 shows.
        Case(name: "an i386 program sees the faked ids (-0, -i)", script: """
            cp $PROBE32 $R/bin/p32; echo x > $R/etc/greeting
            for o in -0 "-i 1234:5678"; do
                $PROOT $o -r $R /bin/p32 ids; $PROOT $o -r $R /bin/p32 stat /etc/greeting; $PROOT $o -r $R /bin/p32 stat64 /etc/greeting
                $PROOT $o -r $R /bin/p32 exec /bin/p32 ids; $PROOT $o -r $R /bin/p32 ids16
            done
            """, rootfs: true),
    ]

    @Test(arguments: cases)
    func same(_ c: Case) async throws {
        try #require(PRootFixtures.proot54Present, "PRoot 5.4 is missing: ../shared/anchors/build-proot builds it")
        var results: [PRootUnderTest: BurrowResult] = [:]
        for which in [PRootUnderTest.upstream] + c.ours {
            let dir = makeTempDir(owner: testUser)
            defer { dir.remove() }
            let root = c.rootfs ? await makePrivateRootfs() : nil
            defer { root?.remove() }
            results[which] = await prootScript(c.script, in: dir.path, under: which, rootfs: root?.path)
        }
        let reference = try #require(results[.upstream])
        for which in c.ours {
            let ours = try #require(results[which])
            #expect(ours.stdout == reference.stdout, "\(which.rawValue):\n\(ours.stdout)\(ours.stderr)\nPRoot 5.4:\n\(reference.stdout)")
            #expect(ours.status == reference.status, "\(which.rawValue): \(ours.status), PRoot 5.4: \(reference.status)")
        }
    }
}
