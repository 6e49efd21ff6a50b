import Testing

@testable import AuthorityPostgres

@Suite struct PostgresLocationTests {
    @Test func socketAndTCPURLs() throws {
        let socket = try PostgresLocation(parsing: "postgresql://authority@/authority?host=/run/postgresql")
        #expect(socket.endpoint == .unixSocket(path: "/run/postgresql/.s.PGSQL.5432"))
        #expect(socket.username == "authority" && socket.database == "authority" && socket.password == nil)
        let tcp = try PostgresLocation(parsing: "postgres://u:s%40cret@db.internal:6543/auth?sslmode=verify-full&application_name=edge1")
        #expect(tcp.endpoint == .tcp(host: "db.internal", port: 6543))
        #expect(tcp.password == "s@cret" && tcp.requireTLS && tcp.applicationName == "edge1")
        // Never the password in messages and logs.
        #expect(!tcp.description.contains("s@cret") && !tcp.description.contains("cret"))
    }

    @Test(arguments: [
        ("mysql://u@h/d", "expected postgresql://"),
        ("postgresql://h/d", "names no user"),
        ("postgresql://u@h/", "names no database"),
        ("postgresql://u@h/a/b", "names no database"),
        ("postgresql://u@/d", "names no host"),
        ("postgresql://u@h/d?sslmode=prefer", "sslmode prefer is not supported"),
        ("postgresql://u@h/d?options=-c%20x", "unknown URL parameter options"),
        ("postgresql://u@/d?host=relative", "absolute socket directory"),
        ("postgresql://u@/d?host=/s&sslmode=verify-full", "needs a TCP host"),
    ])
    func refusedURLsSayWhy(_ text: String, _ why: String) {
        #expect {
            _ = try PostgresLocation(parsing: text)
        } throws: { error in
            "\(error)".contains(why)
        }
    }

    @Test func migrationsAreSplitIntoStatementsWithoutComments() {
        let statements = PostgresMigrations.statements("-- a; comment\nCREATE TABLE a (x INT); -- trailing; note\n\nCREATE INDEX i ON a (x);\n")
        #expect(statements == ["CREATE TABLE a (x INT)", "CREATE INDEX i ON a (x)"])
    }

    /// A shipped migration is never edited: add a new file instead. Pin each new file here.
    @Test func shippedMigrationsArePinned() {
        let pinned = [
            "0001_initial.sql": "93e0b4c5ece3e003c8b411e29751bcdcf86d09699af5f86bccc0fa0ee65635a8",
            "0002_link_records.sql": "2ecf26cdf3966d1ccc5fa5b2ef6fc2da4da7e31809bdd4398921af5e49d364f2",
            "0003_link_events.sql": "a47602be0283a6317ddf31b163cc85cccdcaeaeddea4a3aea92ecbd29eb5b3dc",
        ]
        #expect(PostgresMigrations.files.map(\.name) == pinned.keys.sorted())
        for file in PostgresMigrations.files {
            #expect(PostgresMigrations.sha256Hex(file.sql) == pinned[file.name], "\(file.name) was edited")
        }
    }
}
