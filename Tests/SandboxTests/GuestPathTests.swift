import Testing
@testable import BurrowSandbox

struct GuestPathTests {
    @Test(arguments: [
        ("/", "/", "."),
        ("/a", "/a", "a"),
        ("/a/b/", "/a/b", "a/b"),
        ("//a//b", "/a/b", "a/b"),
        ("/a/./b", "/a/b", "a/b"),
        ("/a/../b", "/b", "b"),
        ("/a/b/../..", "/", "."),
        ("/.", "/", "."),
    ])
    func parses(text: String, description: String, relative: String) throws {
        let p = try GuestPath(parsing: text)
        #expect(p.description == description)
        #expect(p.relative == relative)
    }

    @Test(arguments: [
        ("", PathError.empty),
        ("a/b", .relative("a/b")),
        ("./x", .relative("./x")),
        ("/..", .escapesRoot("/..")),
        ("/a/../../etc", .escapesRoot("/a/../../etc")),
    ])
    func rejects(text: String, error: PathError) {
        #expect(throws: error) { try GuestPath(parsing: text) }
    }

    @Test func parentAndWithin() throws {
        let p = try GuestPath(parsing: "/a/b/c")
        #expect(p.parent.description == "/a/b")
        #expect(p.lastComponent == "c")
        #expect(p.isWithin(try GuestPath(parsing: "/a")))
        #expect(p.isWithin(.root))
        #expect(p.isWithin(p))
        #expect(!p.isWithin(try GuestPath(parsing: "/a/bc")))
        #expect(!(try GuestPath(parsing: "/ab")).isWithin(try GuestPath(parsing: "/a")))
        #expect(GuestPath.root.parent == .root)
    }
}

struct EnvironmentTests {
    @Test(arguments: [
        ([EnvOp.set("A", "1")], [("A", "1"), ("B", "2"), ("C", "3")].map { "\($0)=\($1)" }.sorted()),
        ([.set("D", "4")], ["A=0", "B=2", "C=3", "D=4"]),
        ([.unset("B")], ["A=0", "C=3"]),
        ([.clear], []),
        ([.clear, .set("X", "y")], ["X=y"]),
        ([.set("X", "y"), .clear], []),
        ([.unset("nope")], ["A=0", "B=2", "C=3"]),
    ])
    func applies(ops: [EnvOp], expected: [String]) {
        let base = [("A", "0"), ("B", "2"), ("C", "3")]
        let got = applyEnvironment(ops, to: base).map { "\($0.0)=\($0.1)" }.sorted()
        #expect(got == expected)
    }
}
