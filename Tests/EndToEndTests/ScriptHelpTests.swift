import AuthorityTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension EndToEnd {
    /// Every script in scripts/ answers -h and --help with its usage and does nothing else; one
    /// that takes no options refuses an unknown one in one line, exit 2. The tools a script would
    /// build or install with come first in PATH as stubs that leave a mark, so "nothing else"
    /// is checked, not assumed.
    @Suite struct ScriptHelpTests {
        static let scripts = ["bench.sh", "check-units.sh", "deps.sh", "install.sh", "run.sh", "test.sh"]
        static let stubbed = ["swift", "apt-get", "sudo", "dpkg", "python3", "systemd-analyze"]

        /// Runs `scripts/NAME arguments` with the stubs first in PATH; the result and whether a
        /// stub ran.
        func runScript(_ name: String, _ arguments: [String]) throws -> (CommandResult, ranTools: String) {
            let directory = try TemporaryDirectory("au-script")
            defer { directory.remove() }
            let marks = directory.path + "/ran"
            for tool in Self.stubbed {
                let stub = directory.path + "/" + tool
                // dpkg says every package is installed, so deps.sh never reaches apt-get or
                // /usr/sbin/policy-rc.d; every other stub fails, so a script that goes on stops.
                let status = tool == "dpkg" ? 0 : 1
                try "#!/bin/sh\necho \"\(tool) $*\" >> '\(marks)'\nexit \(status)\n"
                    .write(toFile: stub, atomically: true, encoding: .utf8)
                chmod(stub, 0o755)
            }
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = directory.path + ":/usr/bin:/bin"
            let script = SystemdTestEnvironment.packageRoot + "/scripts/" + name
            let result = try ChildProcess.run([script] + arguments, environment: environment, timeout: 20)
            return (result, (try? String(contentsOfFile: marks, encoding: .utf8)) ?? "")
        }

        @Test func everyScriptIsCovered() throws {
            let present = try FileManager.default.contentsOfDirectory(atPath: SystemdTestEnvironment.packageRoot + "/scripts")
                .filter { $0.hasSuffix(".sh") }
            #expect(Set(present) == Set(Self.scripts))
        }

        @Test(arguments: ScriptHelpTests.scripts, ["-h", "--help"])
        func helpPrintsUsageAndDoesNothingElse(_ name: String, _ flag: String) throws {
            let (result, ran) = try runScript(name, [flag])
            #expect(result.status == 0, "\(name) \(flag): \(result)")
            #expect(result.stdout.hasPrefix("Usage: scripts/\(name)"), "\(name) \(flag): \(result)")
            #expect(result.stdout.contains("Examples:") && result.stdout.split(separator: "\n").count >= 8, "\(result)")
            #expect(result.stderr.isEmpty, "\(name) \(flag): \(result)")
            #expect(ran.isEmpty, "\(name) \(flag) ran: \(ran)")
        }

        /// check-units.sh and install.sh take no such option, deps.sh takes package names.
        @Test(arguments: ["check-units.sh", "deps.sh", "install.sh"])
        func unknownOptionsAreRefusedInOneLine(_ name: String) throws {
            let (result, ran) = try runScript(name, ["--frobnicate"])
            #expect(result.status == 2, "\(name): \(result)")
            #expect(result.stderr.hasPrefix("\(name): ") && result.stderr.filter { $0 == "\n" }.count == 1, "\(result)")
            #expect(result.stderr.contains("--frobnicate") && result.stdout.isEmpty, "\(result)")
            #expect(ran.isEmpty, "\(name) ran: \(ran)")
        }

        /// After `--`, `--help` is the wrapped program's: the script goes on (to its first stub).
        @Test(arguments: ["bench.sh", "run.sh", "test.sh"])
        func helpAfterADoubleDashGoesOn(_ name: String) throws {
            let (result, ran) = try runScript(name, ["--", "--help"])
            #expect(!result.stdout.hasPrefix("Usage: scripts/") && result.status != 0, "\(name): \(result)")
            #expect(!ran.isEmpty, "\(name) -- --help stopped before any tool: \(result)")
        }

        @Test func checkUnitsTakesNoArguments() throws {
            let (result, ran) = try runScript("check-units.sh", ["Systemd"])
            #expect(result.status == 2 && result.stderr.hasPrefix("check-units.sh: "), "\(result)")
            #expect(ran.isEmpty, "ran: \(ran)")
        }
    }
}
