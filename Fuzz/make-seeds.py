#!/usr/bin/env python3
"""Writes the seed corpora Fuzz/corpus/TARGET/ (committed; scripts/fuzz only reads them):
every string-array literal of the front-end's table tests (Tests/FrontEndTests), the
examples of the manuals in ../shared/reference/, and fstab files. A seed is argv with words
separated by NUL, then for jchroot (the -f file) and proot (NAME=VALUE environment lines)
a 0x01 byte and the host's part. Run it again after adding tests: python3 Fuzz/make-seeds.py"""
import hashlib, os, re, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(root)

def swift_strings(array_text):
    out = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', array_text):
        s = m.group(1)
        s = re.sub(r'\\u\{([0-9a-fA-F]+)\}', lambda x: chr(int(x.group(1), 16)), s)
        s = s.replace('\\n', '\n').replace('\\t', '\t').replace('\\0', '\0').replace('\\"', '"').replace('\\\\', '\\')
        out.append(s)
    return out

def test_arrays(path):
    text = open(path).read()
    # Flat string arrays: ["--bind", "/a", "/b"] (not nested, not empty).
    return [swift_strings(m.group(0)) for m in re.finditer(r'\[\s*"(?:[^"\\\]]|\\.)*"(?:\s*,\s*"(?:[^"\\]|\\.)*")*\s*\]', text)]

seeds = {t: set() for t in ["burrow", "linux-user-chroot", "jchroot", "proot", "fstab"]}

def argv(target, words, host=None):
    data = "\0".join(words).encode()
    if host is not None:
        data += b"\x01" + host.encode()
    seeds[target].add(data)

for target, test in [("burrow", "BurrowCommandLineTests"), ("burrow", "SeccompOptionTests"),
                     ("linux-user-chroot", "LinuxUserChrootCommandLineTests"),
                     ("jchroot", "JChrootCommandLineTests"), ("proot", "PRootCommandLineTests")]:
    for words in test_arrays(f"Tests/FrontEndTests/{test}.swift"):
        argv(target, words)
        if target in ("burrow", "linux-user-chroot"):
            argv(target, words + ["/srv/root", "sh", "-c", "id"])
        if target == "jchroot":
            argv(target, words + ["/srv/chroot", "id"])

manual_fstab = ("proc /proc proc defaults 0 0\nsys /sys sysfs defaults 0 0\n/home /home none bind,rw 0 0\n"
                "/dev/pts /dev/pts none bind,rw 0 0\n/var/run /var/run tmpfs rw,nosuid,noexec,mode=755 0 0\n"
                "/etc/resolv.conf /etc/resolv.conf none bind,ro 0 0\n")
fstabs = [manual_fstab, "# comment\n\ntmpfs /tmp tmpfs mode=1777,size=64m\n",
          "/srv/a\\040b /mnt/a\\040b none bind,ro,nodev,noexec,nofail 0 0\n",
          "devpts /dev/pts devpts newinstance,ptmxmode=0666\nmqueue /dev/mqueue mqueue\n",
          "proc /proc proc\r\n/a /b none rbind,noatime,x-gvfs-show,comment=x\r\n"]
for text in fstabs:
    seeds["fstab"].add(text.encode())
    argv("jchroot", ["-f", "/etc/j.fstab", "/srv/chroot", "id"], text)
for words in test_arrays("Tests/FrontEndTests/FstabTests.swift"):
    for w in words:
        if " " in w or "\t" in w:
            seeds["fstab"].add(w.encode())
for m in re.finditer(r'\("((?:[^"\\]|\\.)*)", (?:fs|bind|nil|1|4|3)', open("Tests/FrontEndTests/FstabTests.swift").read()):
    seeds["fstab"].add(swift_strings('"' + m.group(1) + '"')[0].encode())

# The manuals' examples.
argv("linux-user-chroot", ["--seccomp-profile-version", "0", "--unshare-pid", "--unshare-net", "--unshare-pid",
     "--mount-proc", "/proc", "--mount-bind", "/dev", "/dev", "--mount-bind", "/home/user/source/project",
     "/usr/src/project", "/path/to/my/chroot", "/bin/sh"])
argv("linux-user-chroot", ["--unshare-net", "--chdir", "/home/user/src", "/", "make", "clean", "all", "check"])
argv("jchroot", ["-U", "-N", "-u", "nobody", "-g", "nogroup", "-n", "box", "-M", "0 100000 65536", "-G", "0 100000 65536",
     "-p", "/run/j.pid", "-e", "LANG=C", "-c", "/tmp", "-b", "/srv/chroot", "--", "sh", "-c", "id"])
argv("jchroot", ["--new-user-ns", "--fstab=/etc/j.fstab", "--hostname=box", "/srv/chroot"], manual_fstab)
env = "HOME=/home/user\nPWD=/home/user/src\nBURROW_FAKE_DB=fake.db"
for words in [["-r", "/mnt/slackware-8.0/", "cat", "/etc/motd"], ["-r", "/mnt/slackware-8.0/"],
              ["-b", "/tmp/alternate_opt:/opt"], ["-b", "~/alternate_hosts:/etc/hosts"], ["-b", "/bin/bash:/bin/sh"],
              ["-b", "/bin/bash:/bin/sh!"], ["-r", "/mnt/slackware-8.0/", "-b", "/proc"], ["-R", "/mnt/slackware-8.0/"],
              ["-r", "/mnt/slackware-8.0/", "-0"], ["-S", "/mnt/slackware-8.0/", "installpkg", "perl.tgz"],
              ["-R", "/mnt/armslack-12.2/", "-q", "qemu-arm"], ["-R", "/mnt/armslack-12.2/", "-q", "qemu-arm -g 1234", "emacs"],
              ["-R", "/mnt/armslack-12.2/", "-q", "qemu-arm", "-b", "/usr/bin/make"], ["-i", "1000:100", "-w", "src", "-v", "1"],
              ["-k", "\\Linux\\box\\5.0\\#1\\x86_64\\dom\\0x1f\\", "--rootfs=/srv", "--cwd=/tmp", "--", "ls"]]:
    argv("proot", words)
    argv("proot", words, env)

for target, items in seeds.items():
    d = f"Fuzz/corpus/{target}"
    os.makedirs(d, exist_ok=True)
    for data in items:
        with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    print(f"{target}: {len(items)} seeds", file=sys.stderr)

# Dictionaries (libFuzzer -dict): each front-end's option words, from its own source, and
# bytes that trip byte-versus-character handling (a combining mark, a prepended U+0600
# that joins the next character, CR LF, escapes).
tricky = ["\\xcc\\x81", "\\xd8\\x80", "\\x0d\\x0a", "\\x0a", "\\x1b[", "\\x00", "\\x01", "=", ":", "/", "..", "!", "\\\\040", "\\\\"]
sources = {"burrow": "Sources/FrontEnds/Burrow/BurrowCommandLine.swift",
           "linux-user-chroot": "Sources/FrontEnds/LinuxUserChroot/LinuxUserChrootCommandLine.swift",
           "jchroot": "Sources/FrontEnds/JChroot/JChrootCommandLine.swift",
           "proot": "Sources/FrontEnds/PRoot/PRootCommandLine.swift",
           "fstab": "Sources/FrontEnds/JChroot/Fstab.swift"}
os.makedirs("Fuzz/dict", exist_ok=True)
for target, path in sources.items():
    text = open(path).read()
    if target == "fstab":
        words = set(re.findall(r'"([a-z_][a-z_=-]*)"', text)) | {"bind", "none", "proc", "tmpfs", "sysfs", "mqueue", "devpts"}
    else:
        words = set(re.findall(r'"(--?[A-Za-z0-9][A-Za-z0-9-]*)"', text))
        if target == "jchroot":
            words |= {"-" + c for c in re.findall(r'short: "([A-Za-z])"', text)}
            words |= {"--" + w for w in re.findall(r'long: "([a-z-]+)"', text)}
    with open(f"Fuzz/dict/{target}.dict", "w") as f:
        f.write(f"# {target}: generated by Fuzz/make-seeds.py\n")
        for w in sorted(words):
            f.write(f'"{w}"\n')
        for t in tricky:
            f.write(f'"{t}"\n')
