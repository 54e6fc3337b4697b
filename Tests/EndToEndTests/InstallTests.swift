import Foundation
import XCTest

/// `make install` and `make uninstall`, the committed man page and the completion scripts, as a packager or a user
/// meets them. The install runs `make install-built` with the binary under test: `make install` would first build a
/// release binary, minutes on this machine, inside a `swift test` that holds the build directory's lock.
final class InstallTests: XCTestCase {
    static let root = Lab.packageRoot
    static let committedPage = "\(root)/docs/man/mxcheck.1"

    /// The five files `make install` puts under a prefix.
    static let installedPaths = [
        "bin/mxcheck", "share/man/man1/mxcheck.1", "share/bash-completion/completions/mxcheck",
        "share/zsh/site-functions/_mxcheck", "share/fish/vendor_completions.d/mxcheck.fish",
    ]

    func testInstallUnderAPrefixThenUninstallLeavesNoFile() throws {
        let prefix = try temporaryDirectory("prefix") + "/usr/local"
        try installAndCheck(make: ["PREFIX=\(prefix)"], root: prefix)
    }

    func testInstallUnderDestdirThenUninstallLeavesNoFile() throws {
        let destdir = try temporaryDirectory("destdir")
        try installAndCheck(make: ["DESTDIR=\(destdir)", "PREFIX=/usr"], root: destdir + "/usr")
        XCTAssertEqual(try files(under: destdir), [], "uninstall with the same DESTDIR removes every file")
    }

    /// The committed page is exactly what swift-argument-parser's generator (the code the generate-manual plugin
    /// runs) makes of the binary's own `--experimental-dump-help`, so a new option cannot go undocumented.
    func testCommittedManPageIsWhatTheGeneratorMakesOfTheBinary() throws {
        let committed = try String(contentsOfFile: Self.committedPage, encoding: .utf8)
        let date = try XCTUnwrap(Self.manualDate(committed), "no .Dd date in docs/man/mxcheck.1")
        let generator = try buildGenerator()
        let output = try temporaryDirectory("man")
        let run = Command.run([generator, EndToEndTestCase.binary, "--date", date, "--output-directory", output], timeout: 60)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        let raw = try String(contentsOfFile: "\(output)/mxcheck.1", encoding: .utf8)
        // The tidying `make man` does with sed: a blank line becomes .Pp.
        var lines = raw.split(separator: "\n", omittingEmptySubsequences: false)
        if raw.hasSuffix("\n") { lines.removeLast() }
        let expected = lines.map { $0.isEmpty ? ".Pp" : String($0) }.joined(separator: "\n") + (raw.hasSuffix("\n") ? "\n" : "")
        if expected != committed {
            try expected.write(toFile: "\(output)/generated.1", atomically: true, encoding: .utf8)
            let diff = Command.run(["/usr/bin/diff", "-u", Self.committedPage, "\(output)/generated.1"], timeout: 30)
            XCTFail("docs/man/mxcheck.1 is not what the generator makes of the current command line: run `make man`\n\(diff.stdout)")
        }
        XCTAssertTrue(committed.contains(".Sh SYNOPSIS") && committed.contains("smtp"), "a page of the mxcheck command")
    }

    // MARK: helpers

    private func installAndCheck(make arguments: [String], root: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let install = Command.run(["/usr/bin/env", "make", "--no-print-directory", "-C", Self.root, "install-built",
                                   "INSTALL_BIN=\(EndToEndTestCase.binary)"] + arguments, timeout: 120)
        XCTAssertEqual(install.status, 0, install.stdout + install.stderr, file: file, line: line)
        for path in Self.installedPaths {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(root)/\(path)"), "\(path) installed", file: file, line: line)
        }
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "\(root)/bin/mxcheck"), file: file, line: line)
        let version = Command.run(["\(root)/bin/mxcheck", "--version"], timeout: 30)
        XCTAssertEqual(version.status, 0, version.stderr, file: file, line: line)

        // The installed page renders, without a groff or mdoc warning.
        var environment = ProcessInfo.processInfo.environment
        environment["MANWIDTH"] = "80"
        // A locale every Debian system has, so man says nothing about the locale on stderr.
        environment["LC_ALL"] = "C.UTF-8"
        environment["MANPAGER"] = nil
        environment["PAGER"] = nil
        let man = Command.run(["/usr/bin/env", "man", "--warnings", "-P", "cat", "-l", "\(root)/share/man/man1/mxcheck.1"], environment: environment, timeout: 60)
        XCTAssertEqual(man.status, 0, man.stderr, file: file, line: line)
        XCTAssertEqual(man.stderr, "", "man --warnings says nothing", file: file, line: line)
        for heading in ["NAME", "SYNOPSIS", "DESCRIPTION", "mxcheck", "smtp", "--warn-days"] {
            XCTAssertTrue(man.stdout.contains(heading), "rendered page shows \(heading):\n\(man.stdout.prefix(800))", file: file, line: line)
        }

        // The bash completion sources cleanly in a bare bash, registers itself and completes the subcommand and an option.
        let script = "\(root)/share/bash-completion/completions/mxcheck"
        let subcommand = bashCompletion(script: script, words: ["mxcheck", "sm"])
        XCTAssertEqual(subcommand.status, 0, subcommand.stderr, file: file, line: line)
        XCTAssertEqual(subcommand.stderr, "", file: file, line: line)
        XCTAssertTrue(subcommand.stdout.contains("complete -o filenames -F _mxcheck mxcheck"), subcommand.stdout, file: file, line: line)
        XCTAssertTrue(subcommand.stdout.split(separator: "\n").contains("reply: smtp"), subcommand.stdout, file: file, line: line)
        let option = bashCompletion(script: script, words: ["mxcheck", "smtp", "--warn-d"])
        XCTAssertTrue(option.stdout.split(separator: "\n").contains("reply: --warn-days"), option.stdout + option.stderr, file: file, line: line)

        let uninstall = Command.run(["/usr/bin/env", "make", "--no-print-directory", "-C", Self.root, "uninstall"] + arguments, timeout: 60)
        XCTAssertEqual(uninstall.status, 0, uninstall.stdout + uninstall.stderr, file: file, line: line)
        XCTAssertEqual(try files(under: root), [], "uninstall removes every file install put there", file: file, line: line)
    }

    /// Sources the script in `bash --norc` and asks its completion function what follows `words`, as bash would on Tab.
    private func bashCompletion(script: String, words: [String]) -> CommandResult {
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let program = """
            set -u
            source '\(script)' || exit 1
            complete -p mxcheck
            COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1)
            COMP_LINE='\(words.joined(separator: " "))'; COMP_POINT=${#COMP_LINE}
            _mxcheck mxcheck '\(words.last!)' '\(words[words.count - 2])'
            for reply in "${COMPREPLY[@]}"; do printf 'reply: %s\\n' "$reply"; done
            """
        return Command.run(["/bin/bash", "--noprofile", "--norc", "-c", program], timeout: 30)
    }

    /// The generate-manual tool built from the swift-argument-parser checkout the package build fetched, in a
    /// scratch directory of its own (the test's build directory is locked while tests run).
    private func buildGenerator() throws -> String {
        let scratch = "\(Self.root)/.build-manual"
        let tool = "\(scratch)/debug/generate-manual"
        let candidates = try FileManager.default.contentsOfDirectory(atPath: Self.root).filter { $0.hasPrefix(".build") }.sorted()
            .map { "\(Self.root)/\($0)/checkouts/swift-argument-parser" }
        let checkout = try XCTUnwrap(candidates.first { FileManager.default.fileExists(atPath: "\($0)/Package.swift") },
                                     "no swift-argument-parser checkout under \(Self.root)/.build*")
        let build = Command.run(["/usr/bin/env", "swift", "build", "--package-path", checkout, "--scratch-path", scratch,
                                 "--product", "generate-manual"], timeout: 900)
        XCTAssertEqual(build.status, 0, build.stdout + build.stderr)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: tool), "no \(tool)")
        return tool
    }

    /// `.Dd December 1, 2026` as the generator's `--date` wants it: 2026-12-01.
    static func manualDate(_ page: String) -> String? {
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        guard let line = page.split(separator: "\n").first(where: { $0.hasPrefix(".Dd ") }) else { return nil }
        let parts = line.dropFirst(4).replacingOccurrences(of: ",", with: "").split(separator: " ")
        guard parts.count == 3, let month = months.firstIndex(of: String(parts[0])), let day = Int(parts[1]), let year = Int(parts[2]) else { return nil }
        return String(format: "%04d-%02d-%02d", year, month + 1, day)
    }

    private func temporaryDirectory(_ name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-install-\(name)-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    /// Every regular file or link under `directory`, relative to it.
    private func files(under directory: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        while let path = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(directory)/\(path)", isDirectory: &isDirectory), !isDirectory.boolValue {
                found.append(path)
            }
        }
        return found.sorted()
    }
}
