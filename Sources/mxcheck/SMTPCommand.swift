import ArgumentParser
import Foundation
import MXCheckCore

extension TLSMode: ExpressibleByArgument {}

enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
    case text
    case json
}

struct SMTPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smtp",
        abstract: "Check SMTP servers: STARTTLS on 25/587, implicit TLS on 465.",
        discussion: """
            TARGET is host, host:port, 192.0.2.1, 192.0.2.1:587, [2001:db8::1]:25 or 2001:db8::1. \
            A host name is resolved and every address (A and AAAA) is checked, one result each. \
            mxcheck never sends MAIL, RCPT, DATA, VRFY or EXPN.

            Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; over several endpoints the worst, \
            ordered CRITICAL > UNKNOWN > WARNING > OK.
            """
    )

    @Argument(help: ArgumentHelp("Servers to check.", valueName: "target"))
    var targets: [String] = []

    @Option(help: ArgumentHelp("Read targets from a file, or '-' for standard input: one a line, '#' comments, blank lines ignored.", valueName: "file"))
    var input: String?

    @Option(help: ArgumentHelp("Port for targets that name none.", valueName: "n"))
    var port: Int = 25

    @Option(help: ArgumentHelp("How TLS starts: auto (465: implicit, else STARTTLS), starttls or implicit.", valueName: "mode"))
    var tls: TLSMode = .auto

    @Option(help: ArgumentHelp("Name sent as SNI and verified against the certificate (default: the target's host name).", valueName: "name"))
    var servername: String?

    @Option(help: ArgumentHelp("Name sent in EHLO (default: this machine's FQDN, else its address literal).", valueName: "name"))
    var ehlo: String?

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("Extra trust anchors (PEM), added to the system store.", valueName: "pem"))
    var caFile: String?

    @Option(name: .customLong("warn-days"), help: ArgumentHelp("Warn when the certificate expires within this many days.", valueName: "n"))
    var warnDays: Int = 14

    @Option(name: .customLong("crit-days"), help: ArgumentHelp("Critical when the certificate expires within this many days.", valueName: "n"))
    var critDays: Int = 7

    @Option(help: ArgumentHelp("Bound on the whole check of one endpoint, in seconds.", valueName: "seconds"))
    var timeout: Double = 30

    @Flag(name: .customShort("4"), help: "Only IPv4 addresses.")
    var ipv4Only = false

    @Flag(name: .customShort("6"), help: "Only IPv6 addresses.")
    var ipv6Only = false

    @Option(help: ArgumentHelp("Output format: text or json (JSON Lines, one object per endpoint).", valueName: "format"))
    var format: OutputFormat = .text

    @Flag(help: "Same as --format json.")
    var json = false

    @Flag(help: "Probe which protocol versions the server accepts: SSLv2 to TLS 1.3 (a few more connections).")
    var protocols = false

    @Flag(help: "Enumerate the cipher suites and groups each accepted version offers (implies --protocols; about one connection per accepted suite).")
    var ciphers = false

    @Option(help: ArgumentHelp("Endpoints checked at once.", valueName: "n"))
    var concurrency: Int = 16

    @Option(name: .customLong("per-host"), help: ArgumentHelp("Connections at once to one address.", valueName: "n"))
    var perHost: Int = 2

    @Option(help: ArgumentHelp("Pause between connections to one address, in milliseconds (for servers known to be strict).", valueName: "ms"))
    var delay: Int = 0

    @Flag(name: .customLong("no-injection-test"), help: "Skip the STARTTLS command-injection probe (CVE-2011-0411), which uses a second connection.")
    var noInjectionTest = false

    @Flag(name: [.customShort("v"), .long], help: "Print the SMTP dialog (C:/S: lines) on stderr.")
    var verbose = false

    @Flag(name: .customLong("no-color"), help: "Plain text without colour (NO_COLOR in the environment does the same).")
    var noColor = false

    mutating func validate() throws {
        guard !targets.isEmpty || input != nil else {
            throw ValidationError("give at least one target, e.g. 'mxcheck smtp mx.example.com', or --input FILE")
        }
        guard (1...65535).contains(port) else { throw ValidationError("--port must be from 1 to 65535") }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be more than 0 and at most 3600 seconds") }
        guard warnDays >= 0, critDays >= 0 else { throw ValidationError("--warn-days and --crit-days must not be negative") }
        guard critDays <= warnDays else { throw ValidationError("--crit-days (\(critDays)) must not exceed --warn-days (\(warnDays))") }
        guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 1024") }
        guard (1...64).contains(perHost) else { throw ValidationError("--per-host must be from 1 to 64") }
        guard (0...60_000).contains(delay) else { throw ValidationError("--delay must be from 0 to 60000 milliseconds") }
        guard !(ipv4Only && ipv6Only) else { throw ValidationError("-4 and -6 exclude each other") }
        if let ehlo, ehlo.isEmpty || ehlo.contains(where: { $0.isWhitespace || !$0.isASCII }) {
            throw ValidationError("--ehlo must be a host name or an address literal, without spaces")
        }
        if let servername, (try? Target.parse(servername)) == nil {
            throw ValidationError("--servername must be a host name or an IP address")
        }
    }

    func run() throws {
        let outputFormat: OutputFormat = json ? .json : format
        let family: AddressFamilyFilter = ipv4Only ? .ipv4Only : (ipv6Only ? .ipv6Only : .any)
        let stderr = StandardError()

        // A target that cannot be parsed is reported and counts as UNKNOWN; the others are still checked.
        var worst: Status?
        var lines = targets.map { (source: "", text: $0) }
        if let input {
            do {
                lines += try TargetList.read(input).map { (source: "\(input == "-" ? "stdin" : input):\($0.number): ", text: $0.text) }
            } catch {
                stderr.write("mxcheck: \(error.description)")
                throw ExitCode(3)
            }
        }
        var parsed: [Target] = []
        for line in lines {
            do {
                parsed.append(try Target.parse(line.text, defaultPort: UInt16(port)))
            } catch {
                stderr.write("mxcheck: \(line.source)\(error.description)")
                worst = .unknown
            }
        }

        let trustStore: TrustStore
        let context: TLSClientContext
        do {
            trustStore = try TrustStore(extraCAFile: caFile)
            context = try TLSClientContext()
        } catch let error as TrustStoreError {
            stderr.write("mxcheck: \(error.description)")
            throw ExitCode(3)
        }
        defer { trustStore.finishLoading() }

        var endpoints: [Endpoint] = []
        for target in parsed {
            do {
                let addresses = try SystemResolver.addresses(of: target, family: family, timeout: min(timeout, 30))
                endpoints += Endpoint.endpoints(for: target, addresses: addresses, tls: tls, servername: servername)
            } catch {
                stderr.write("mxcheck: \(error.description)")
                worst = max(worst ?? .unknown, .unknown)
            }
        }

        var checkSettings = CheckSettings(ehloName: ehlo ?? LocalHost.ehloName(), timeout: timeout)
        checkSettings.injectionTest = !noInjectionTest
        checkSettings.injectionProbeInParallel = perHost >= 2
        let probeSettings = ciphers || protocols
            ? ProbeSettings(ciphers: ciphers, timeout: timeout, perHost: perHost, delayMilliseconds: delay) : nil
        // One gate per address, shared by every endpoint of the batch that has it.
        let gates = Dictionary(endpoints.map { ($0.address, 0) }, uniquingKeysWith: { first, _ in first })
            .mapValues { _ in ConnectionGate(limit: perHost, delayMilliseconds: delay) }
        let checker = Checker(context: context, trustStore: trustStore, settings: checkSettings)
        let rules = RuleSettings(now: Date(), warnDays: warnDays, critDays: critDays)
        let colour = !noColor && Terminal.wantsColour(fileDescriptor: STDOUT_FILENO)
        let text = TextReport(colour: colour)
        let tagTranscript = endpoints.count > 1
        let verbose = verbose
        let results = Results()

        let work: @Sendable (Endpoint) -> EndpointReport = { endpoint in
            let prefix = tagTranscript ? "[\(endpoint.address)]:\(endpoint.port) " : ""
            let transcript: (@Sendable (String) -> Void)?
            if verbose {
                transcript = { line in stderr.write(prefix + line) }
            } else {
                transcript = nil
            }
            let observation = checker.check(endpoint, now: rules.now, probe: probeSettings, gate: gates[endpoint.address], transcript: transcript)
            return EndpointReport(observation: observation, settings: rules)
        }
        let progress = Progress(total: endpoints.count, enabled: endpoints.count > 1 && isatty(STDERR_FILENO) == 1 && !verbose)
        let emit: @Sendable (EndpointReport) -> Void = { report in
            progress.clear()
            switch outputFormat {
            case .json: StandardOutput.write(JSONReport.value(for: report).serialized())
            case .text: StandardOutput.write(results.count > 0 ? "\n" + text.render(report) : text.render(report))
            }
            results.add(report.status)
            progress.update(results.counts)
        }
        Batch.run(endpoints, concurrency: concurrency, work: work, onResult: emit)
        progress.finish(results.counts)

        if let status = [worst, results.worst].compactMap({ $0 }).max(), status != .ok {
            throw ExitCode(status.exitCode)
        }
    }
}

/// The statuses seen so far, shared by the worker threads.
final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [Status] = []

    func add(_ status: Status) { lock.withLock { statuses.append(status) } }
    var counts: [Status: Int] { lock.withLock { Dictionary(statuses.map { ($0, 1) }, uniquingKeysWith: +) } }
    var count: Int { lock.withLock { statuses.count } }
    var worst: Status? { lock.withLock { statuses.max() } }
}

/// The batch progress line on stderr (a terminal only): done/total, failures, elapsed; cleared before each
/// result and at the end, then a one-line summary.
final class Progress: @unchecked Sendable {
    private let total: Int
    private let enabled: Bool
    private let started = Date()

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    private var elapsed: String { String(format: "%.1f s", Date().timeIntervalSince(started)) }

    func clear() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    func update(_ counts: [Status: Int]) {
        guard enabled else { return }
        let done = counts.values.reduce(0, +)
        let failed = (counts[.critical] ?? 0) + (counts[.unknown] ?? 0)
        FileHandle.standardError.write(Data("[\(done)/\(total)] \(failed) failed, \(elapsed)".utf8))
    }

    func finish(_ counts: [Status: Int]) {
        guard enabled else { return }
        clear()
        let parts = [Status.ok, .warning, .critical, .unknown].map { "\(counts[$0] ?? 0) \($0.rawValue)" }
        StandardError().write("\(counts.values.reduce(0, +)) endpoints: \(parts.joined(separator: ", ")) (\(elapsed))")
    }
}

enum StandardOutput {
    static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

struct StandardError: Sendable {
    func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

enum Terminal {
    /// Colour only on a terminal, never with NO_COLOR set or TERM=dumb.
    static func wantsColour(fileDescriptor: Int32) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        if environment["TERM"] == "dumb" { return false }
        return isatty(fileDescriptor) == 1
    }
}
