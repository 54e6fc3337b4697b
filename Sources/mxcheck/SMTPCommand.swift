import ArgumentParser
import Foundation
import MXCheckCore

extension TLSMode: ExpressibleByArgument {}
extension PortRole: ExpressibleByArgument {}

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

    @Flag(help: "Treat each target as a mail domain: resolve its MX hosts and check every address of each (as a sending server would).")
    var mx = false

    @Option(help: ArgumentHelp("DNS resolver for every lookup, IP[:port] (default: the servers of /etc/resolv.conf; plain host names then go through it too).", valueName: "ip[:port]"))
    var resolver: String?

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

    @Option(help: ArgumentHelp("How suites the server merely accepts are judged: relay (opportunistic TLS) or submission (passwords travel here). Default: submission for ports 587 and 465, else relay; relay with --mx.", valueName: "role"))
    var role: PortRole?

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
        let results = Results()

        var lines = targets.map { (source: "", text: $0) }
        if let input {
            do {
                lines += try TargetList.read(input).map { (source: "\(input == "-" ? "stdin" : input):\($0.number): ", text: $0.text) }
            } catch {
                stderr.write("mxcheck: \(error.description)")
                throw ExitCode(3)
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

        // The DNS library serves domain mode, and plain host names too when --resolver is given.
        var dns: DNSResolver?
        if mx || resolver != nil {
            do { dns = try DNSResolver(.commandLine(resolver: resolver)) } catch {
                stderr.write("mxcheck: \(error.description)")
                throw ExitCode(3)
            }
        }

        // A line that cannot be used is reported on stderr and counts as UNKNOWN; the others are still checked.
        let plan = mx
            ? domainPlan(lines, dns: dns!, family: family, stderr: stderr, results: results)
            : targetPlan(lines, dns: dns, family: family, stderr: stderr, results: results)

        var checkSettings = CheckSettings(ehloName: ehlo ?? LocalHost.ehloName(), timeout: timeout)
        checkSettings.injectionTest = !noInjectionTest
        checkSettings.injectionProbeInParallel = perHost >= 2
        let run = CheckRun(
            checker: Checker(context: context, trustStore: trustStore, settings: checkSettings),
            rules: RuleSettings(now: Date(), warnDays: warnDays, critDays: critDays, role: role, domainMode: mx),
            probe: ciphers || protocols ? ProbeSettings(ciphers: ciphers, timeout: timeout, perHost: perHost, delayMilliseconds: delay) : nil,
            concurrency: concurrency, perHost: perHost, delayMilliseconds: delay)

        let text = TextReport(colour: !noColor && Terminal.wantsColour(fileDescriptor: STDOUT_FILENO))
        let output = Output(format: outputFormat, text: text, groupByDomain: mx, expected: plan.expectedPerDomain)
        for report in plan.emptyDomains {
            output.emit(report)
            results.add(report.status)
        }
        let tagTranscript = plan.jobs.count > 1
        let verbose = verbose
        let progress = Progress(total: plan.jobs.count, enabled: plan.jobs.count > 1 && isatty(STDERR_FILENO) == 1 && !verbose)
        run.run(plan.jobs, transcript: { endpoint in
            guard verbose else { return nil }
            let prefix = tagTranscript ? "[\(endpoint.address)]:\(endpoint.port) " : ""
            return { line in stderr.write(prefix + TerminalText.escaped(line)) }
        }, onReport: { report in
            progress.clear()
            output.emit(report)
            results.add(report.status)
            progress.update(results.counts, done: results.endpointCount)
        })
        progress.finish(results.counts, done: results.endpointCount)

        if let status = results.worst, status != .ok {
            throw ExitCode(status.exitCode)
        }
    }

    /// What to check: the jobs, the domains with nothing to check, and how many endpoints each domain has.
    struct Plan {
        var jobs: [CheckJob] = []
        var emptyDomains: [DomainReport] = []
        var expectedPerDomain: [String: Int] = [:]
    }

    func targetPlan(_ lines: [(source: String, text: String)], dns: DNSResolver?, family: AddressFamilyFilter, stderr: StandardError, results: Results) -> Plan {
        var plan = Plan()
        for line in lines {
            do {
                let target = try Target.parse(line.text, defaultPort: UInt16(port))
                let addresses: [String]
                if let dns, case .name(let name) = target.host {
                    addresses = try dns.addresses(of: name, family: family, timeout: min(timeout, 10))
                } else {
                    addresses = try SystemResolver.addresses(of: target, family: family, timeout: min(timeout, 30))
                }
                plan.jobs += Endpoint.endpoints(for: target, addresses: addresses, tls: tls, servername: servername).map { CheckJob(endpoint: $0) }
            } catch let error as TargetError {
                stderr.write("mxcheck: \(line.source)\(error.description)")
                results.add(.unknown, endpoint: false)
            } catch {
                stderr.write("mxcheck: \(line.source)\(error)")
                results.add(.unknown, endpoint: false)
            }
        }
        return plan
    }

    /// Resolves every domain (at most --concurrency at once), keeping the input order.
    func domainPlan(_ lines: [(source: String, text: String)], dns: DNSResolver, family: AddressFamilyFilter, stderr: StandardError, results: Results) -> Plan {
        var domains: [String] = []
        for line in lines {
            do {
                let domain = try MXResolution.normalizedDomain(line.text)
                if !domains.contains(domain) { domains.append(domain) }
            } catch {
                stderr.write("mxcheck: \(line.source)invalid domain '\(line.text)': \(error)")
                results.add(.unknown, endpoint: false)
            }
        }
        let options = MXResolutionOptions(port: UInt16(port), tls: tls, family: family, queryTimeout: min(timeout, 10))
        let resolved = Resolved()
        Batch.run(domains, concurrency: concurrency, work: { domain in
            (domain, try? MXResolution.resolve(domain, using: dns, options: options))
        }, onResult: { resolved.set($0.0, $0.1) })
        var plan = Plan()
        for domain in domains {
            guard let result = resolved.get(domain) else { continue }
            if result.endpoints.isEmpty {
                plan.emptyDomains.append(DomainReport(domain: domain, findings: result.findings))
                continue
            }
            plan.expectedPerDomain[domain] = result.endpoints.count
            plan.jobs += result.endpoints.map { entry in
                CheckJob(endpoint: entry.endpoint, origin: DomainOrigin(domain: entry.domain, mx: entry.mx, findings: entry.findings))
            }
        }
        return plan
    }
}

/// Domain results gathered from the resolver threads.
final class Resolved: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [String: DomainResult] = [:]

    func set(_ domain: String, _ result: DomainResult?) { lock.withLock { results[domain] = result } }
    func get(_ domain: String) -> DomainResult? { lock.withLock { results[domain] } }
}

/// Writes reports as they come: JSON Lines at once; text too, or in `--mx` mode a domain's block once
/// all its endpoints are in. Called under the batch's lock.
final class Output: @unchecked Sendable {
    private let format: OutputFormat
    private let text: TextReport
    private let groupByDomain: Bool
    private let expected: [String: Int]
    private var pending: [String: [EndpointReport]] = [:]
    private var written = 0

    init(format: OutputFormat, text: TextReport, groupByDomain: Bool, expected: [String: Int]) {
        self.format = format
        self.text = text
        self.groupByDomain = groupByDomain
        self.expected = expected
    }

    private func write(_ block: String) {
        StandardOutput.write(written > 0 && format == .text ? "\n" + block : block)
        written += 1
    }

    func emit(_ report: EndpointReport) {
        if format == .json { return write(JSONReport.value(for: report).serialized()) }
        guard groupByDomain, let domain = report.origin?.domain else { return write(text.render(report)) }
        pending[domain, default: []].append(report)
        if let reports = pending[domain], reports.count >= (expected[domain] ?? 1) {
            pending[domain] = nil
            write(text.renderDomain(domain, reports: reports))
        }
    }

    func emit(_ report: DomainReport) {
        write(format == .json ? JSONReport.value(for: report).serialized() : text.render(report))
    }
}

/// The statuses seen so far, shared by the worker threads.
final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [Status] = []

    private var endpoints = 0

    /// `endpoint: false` for a line or domain that gave no endpoint to check.
    func add(_ status: Status, endpoint: Bool = true) {
        lock.withLock {
            statuses.append(status)
            if endpoint { endpoints += 1 }
        }
    }

    var counts: [Status: Int] { lock.withLock { Dictionary(statuses.map { ($0, 1) }, uniquingKeysWith: +) } }
    var endpointCount: Int { lock.withLock { endpoints } }
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

    func update(_ counts: [Status: Int], done: Int) {
        guard enabled else { return }
        let failed = (counts[.critical] ?? 0) + (counts[.unknown] ?? 0)
        FileHandle.standardError.write(Data("[\(done)/\(total)] \(failed) failed, \(elapsed)".utf8))
    }

    func finish(_ counts: [Status: Int], done: Int) {
        guard enabled else { return }
        clear()
        let parts = [Status.ok, .warning, .critical, .unknown].map { "\(counts[$0] ?? 0) \($0.rawValue)" }
        StandardError().write("\(done) endpoints: \(parts.joined(separator: ", ")) (\(elapsed))")
    }
}

enum StandardOutput {
    static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

struct StandardError: Sendable {
    func write(_ line: String) {
        FileHandle.standardError.write(Data((TerminalText.escaped(line) + "\n").utf8))
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
