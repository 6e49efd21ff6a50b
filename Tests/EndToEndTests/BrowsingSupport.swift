import AuthorityTesting
import Foundation
import Testing

/// The clients and files of the browsing tests (docs/browsing.md): a small preview site, a short
/// HLS stream made by ffmpeg, a headless Chromium, and the proxies configured with the browsing
/// examples (docs/examples/nginx-browsing.conf, Caddyfile-browsing) exactly as documented.
/// scripts/test.sh installs chromium and ffmpeg; a missing one fails the test.
enum Browsing {
    /// The name the links are bound to; Chromium maps it to 127.0.0.1 (`--host-resolver-rules`).
    static let host = "preview.example"

    /// A site of two pages, a stylesheet, a script and two images under `/preview/site/`. The
    /// script writes `all-loaded <address>` into `#marker` only when the stylesheet applied, both
    /// images decoded and the second page could be fetched.
    static func createSite(root: String) throws {
        let site = root + "/preview/site"
        let files: [String: Data] = [
            "index.html": Data("""
                <!doctype html><html><head><meta charset="utf-8"><title>preview</title>
                <link rel="stylesheet" href="style.css"><script src="app.js"></script></head>
                <body><h1>Preview</h1><img src="img/logo.svg" alt=""><img src="img/dot.png" alt="">
                <a href="about.html">about</a><div id="marker">waiting</div></body></html>

                """.utf8),
            "about.html": Data("<!doctype html><p>the about page</p>\n".utf8),
            "style.css": Data("body { background-color: rgb(1, 2, 3); }\n".utf8),
            "app.js": Data("""
                window.addEventListener('load', async () => {
                  const css = getComputedStyle(document.body).backgroundColor === 'rgb(1, 2, 3)';
                  const images = [...document.images].every(i => i.complete && i.naturalWidth > 0);
                  let page = false;
                  try { page = (await (await fetch('about.html')).text()).includes('the about page'); } catch (e) {}
                  const marker = css && images && page ? 'all-loaded' : `missing css=${css} images=${images} page=${page}`;
                  document.getElementById('marker').textContent = marker + ' ' + location.href;
                });

                """.utf8),
            "img/logo.svg": Data(#"<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="red"/></svg>"#.utf8),
            // A 1×1 PNG.
            "img/dot.png": Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")!,
        ]
        for (path, data) in files {
            let file = site + "/" + path
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: file))
        }
        try worldReadable(root)
    }

    /// The site's files, as a page load asks for them.
    static let assets = ["/preview/site/", "/preview/site/style.css", "/preview/site/app.js", "/preview/site/img/logo.svg",
                         "/preview/site/img/dot.png", "/preview/site/about.html"]

    /// A 4-second HLS stream (`master.m3u8` and four segments) under `root/media/42/`.
    static func createStream(root: String) throws -> [String] {
        let directory = root + "/media/42"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ffmpeg = try #require(ffmpegPath, "ffmpeg is not installed")
        let made = try ChildProcess.run(
            [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=4:size=160x120:rate=10", "-c:v", "mpeg2video",
             "-g", "10", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
             "-hls_segment_filename", directory + "/seg%d.ts", directory + "/master.m3u8"], timeout: 120)
        guard made.status == 0 else { throw HarnessError("ffmpeg could not make the stream: \(made)") }
        try worldReadable(root)
        let playlist = try String(contentsOfFile: directory + "/master.m3u8", encoding: .utf8)
        return playlist.split(separator: "\n").filter { $0.hasSuffix(".ts") }.map(String.init)
    }

    static let ffmpegPath = ["/usr/bin/ffmpeg"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let chromiumPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Reads `url` as a player does: every segment of the playlist, decoded; the exit status.
    static func play(_ url: String) throws -> CommandResult {
        let ffmpeg = try #require(ffmpegPath, "ffmpeg is not installed")
        return try ChildProcess.run([ffmpeg, "-v", "error", "-nostdin", "-i", url, "-f", "null", "-"], timeout: 120)
    }

    static func worldReadable(_ root: String) throws {
        chmod(root, 0o755)
        for case let path as String in FileManager.default.enumerator(atPath: root) ?? NSEnumerator() {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory)
            chmod(root + "/" + path, isDirectory.boolValue ? 0o755 : 0o644)
        }
    }

    /// Where a failing browser test leaves its screenshot: `AUTHORITY_TEST_OUTPUT`, or
    /// `.build/test-output` in the checkout.
    static var outputDirectory: String {
        ProcessInfo.processInfo.environment["AUTHORITY_TEST_OUTPUT"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().path + "/.build/test-output"
    }
}

/// A headless Chromium with a profile of its own (cookies live there), resolving
/// `Browsing.host` to 127.0.0.1.
struct Chromium {
    let profile: String

    func arguments(_ extra: [String]) throws -> [String] {
        let executable = try #require(Browsing.chromiumPath, "chromium is not installed")
        return [executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--user-data-dir=" + profile, "--host-resolver-rules=MAP \(Browsing.host) 127.0.0.1",
                "--virtual-time-budget=5000"] + extra
    }

    /// The DOM after the page loaded and its scripts ran.
    func dumpDOM(_ url: String) throws -> String {
        let result = try ChildProcess.run(try arguments(["--dump-dom", url]), timeout: 90)
        guard result.status == 0 else { throw HarnessError("chromium failed: \(result)") }
        return result.stdout
    }

    /// Keeps a screenshot of `url` as `name`.png in the test output folder; returns its path.
    @discardableResult
    func screenshot(_ url: String, name: String) -> String {
        let directory = Browsing.outputDirectory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/\(name).png"
        _ = try? ChildProcess.run(try arguments(["--window-size=800,600", "--screenshot=" + path, url]), timeout: 90)
        return path
    }

    /// The text of `#marker` in a dumped DOM.
    static func marker(_ dom: String) -> String? {
        guard let start = dom.range(of: "<div id=\"marker\">"), let end = dom[start.upperBound...].range(of: "</div>") else { return nil }
        return String(dom[start.upperBound..<end.lowerBound])
    }
}

/// A proxy started from a browsing example, in front of the daemon at `socket`, serving `root`.
struct BrowsingProxy {
    let process: ChildProcess
    /// `http://preview.example:PORT`, for Chromium; `local` is the same on 127.0.0.1, for curl.
    let base: String
    let local: String
    let prefix: String

    var accessLog: String { (try? String(contentsOfFile: prefix + "/access.log", encoding: .utf8)) ?? "" }

    static func nginx(in directory: String, socket: String, root: String) throws -> BrowsingProxy {
        let prefix = directory + "/nginx"
        try FileManager.default.createDirectory(atPath: prefix, withIntermediateDirectories: true)
        for path in [directory, prefix] { chmod(path, 0o755) }
        let port = try freePort()
        let config = try fillPlaceholders(
            exampleFile("nginx-browsing.conf"), ["PREFIX": prefix, "ROOT": root, "SOCKET": socket, "PORT": String(port)])
        try config.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
        let executable = try #require(NginxTests.nginx, "nginx is not installed")
        let process = try ChildProcess(
            [executable, "-p", prefix, "-c", prefix + "/nginx.conf", "-g", "daemon off;"],
            environment: ProcessInfo.processInfo.environment, stdout: prefix + "/nginx.log", stderr: prefix + "/nginx.log")
        return try started(process, port: port, prefix: prefix, log: prefix + "/nginx.log")
    }

    static func caddy(in directory: String, socket: String, root: String) throws -> BrowsingProxy {
        let prefix = directory + "/caddy"
        try FileManager.default.createDirectory(atPath: prefix, withIntermediateDirectories: true)
        let port = try freePort()
        let config = try fillPlaceholders(
            exampleFile("Caddyfile-browsing"), ["PREFIX": prefix, "ROOT": root, "SOCKET": socket, "PORT": String(port)])
        try config.write(toFile: prefix + "/Caddyfile", atomically: true, encoding: .utf8)
        let environment = ["HOME": prefix, "XDG_DATA_HOME": prefix + "/data", "XDG_CONFIG_HOME": prefix + "/config",
                           "PATH": "/usr/bin:/bin"]
        let executable = try #require(CaddyTests.caddy, "caddy is not installed")
        let process = try ChildProcess(
            [executable, "run", "--config", prefix + "/Caddyfile", "--adapter", "caddyfile"],
            environment: environment, stdout: prefix + "/caddy.log", stderr: prefix + "/caddy.log")
        return try started(process, port: port, prefix: prefix, log: prefix + "/caddy.log")
    }

    private static func started(_ process: ChildProcess, port: Int, prefix: String, log: String) throws -> BrowsingProxy {
        let local = "http://127.0.0.1:\(port)"
        for _ in 0..<200 where process.exitStatus == nil && (try? curl(local + "/").status) == nil { usleep(50_000) }
        if let status = process.exitStatus {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw HarnessError("the proxy exited (\(status)):\n\(text.suffix(3_000))")
        }
        return BrowsingProxy(process: process, base: "http://\(Browsing.host):\(port)", local: local, prefix: prefix)
    }

    func stop() { process.terminate(timeout: 10) }
}
