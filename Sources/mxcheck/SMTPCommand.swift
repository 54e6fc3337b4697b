import ArgumentParser
import FoundationEssentials
import Glibc
import MXCheckCore

extension TLSMode: ExpressibleByArgument {}
extension PortRole: ExpressibleByArgument {}

enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
    case text
    case json
    case nagios
    case prometheus
}

/// A new option here needs its property in SMTPOptions, its line in `options` and its line in
/// PlainSMTPArguments (flags or valueOptions): mxcheckTests fails until the three agree.
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

    @Option(name: .customLong("ca-file"), help: ArgumentHelp(
        "Extra trust anchors (PEM), added to the system store.",
        discussion: "A file that cannot be read or holds no PEM certificate is refused at once (exit 3); one that does not parse is reported after the run, which then counts as UNKNOWN at least.",
        valueName: "pem"))
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

    @Option(help: ArgumentHelp("Output format: text, json (JSON Lines, one object per endpoint), nagios (plugin output with perfdata) or prometheus (text exposition format).", valueName: "format"))
    var format: OutputFormat = .text

    @Flag(help: "Same as --format json.")
    var json = false

    @Flag(help: "Probe which protocol versions the server accepts: SSLv2 to TLS 1.3 (a few more connections).")
    var protocols = false

    @Flag(help: "Enumerate the cipher suites and groups each accepted version offers (implies --protocols; about one connection per accepted suite).")
    var ciphers = false

    @Option(help: ArgumentHelp("Endpoints checked at once (at most 10000; lowered to what the open-file limit allows).", valueName: "n"))
    var concurrency: Int = 16

    @Option(help: ArgumentHelp("Bound on the whole run, in seconds: targets not done by then are answered with run.deadline.", valueName: "seconds"))
    var deadline: Double?

    @Option(help: ArgumentHelp("Write the results to this file instead of stdout: json and text appended as targets finish; nagios and prometheus replace the file at the end, atomically.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Check only shard K of N: the targets whose input hashes (FNV-1a 64) to K; N runs cover every target once.", valueName: "K/N"))
    var shard: String?

    @Option(help: ArgumentHelp("Skip the targets already answered in this earlier JSON output (with --output naming the same file, continue it).", valueName: "file"))
    var resume: String?

    @Option(name: .customLong("per-host"), help: ArgumentHelp("Connections at once to one address.", valueName: "n"))
    var perHost: Int = 2

    @Option(help: ArgumentHelp("Pause between connections to one address, in milliseconds (for servers known to be strict).", valueName: "ms"))
    var delay: Int = 0

    @Option(help: ArgumentHelp("How suites the server merely accepts are judged: relay (opportunistic TLS) or submission (passwords travel here). Default: submission for ports 587 and 465, else relay; relay with --mx.", valueName: "role"))
    var role: PortRole?

    @Flag(name: .customLong("no-mta-sts"), help: "With --mx: skip MTA-STS and TLS-RPT (the _mta-sts and _smtp._tls records and the policy fetch).")
    var noMTASTS = false

    @Flag(name: .customLong("no-injection-test"), help: "Skip the STARTTLS command-injection probe (CVE-2011-0411), which uses a second connection.")
    var noInjectionTest = false

    @Flag(name: [.customShort("v"), .long], help: "Print the SMTP dialog (C:/S: lines) on stderr.")
    var verbose = false

    @Flag(help: "Text: print every endpoint in full, as it finishes, instead of a table of all endpoints followed by the ones that are not OK.")
    var long = false

    @Flag(help: "Evaluate DANE (TLSA records, DNSSEC validated by mxcheck) for host targets too: _PORT._tcp.<host>, its addresses resolved through the DNS library.")
    var dane = false

    @Flag(name: .customLong("no-dane"), help: "Skip DANE in --mx mode.")
    var noDane = false

    @Option(name: .customLong("trust-anchor"), help: ArgumentHelp("DNSSEC trust anchors for DANE: DS or DNSKEY records in zone-file format (default: /usr/share/dns/root.key).", valueName: "file"))
    var trustAnchor: String?

    @Flag(name: .customLong("no-color"), help: "Plain text without colour (NO_COLOR in the environment does the same).")
    var noColor = false

    /// The values given, as the run reads them.
    var options: SMTPOptions {
        var options = SMTPOptions()
        options.targets = targets
        options.mx = mx
        options.resolver = resolver
        options.input = input
        options.port = port
        options.tls = tls
        options.servername = servername
        options.ehlo = ehlo
        options.caFile = caFile
        options.warnDays = warnDays
        options.critDays = critDays
        options.timeout = timeout
        options.ipv4Only = ipv4Only
        options.ipv6Only = ipv6Only
        options.format = format
        options.json = json
        options.protocols = protocols
        options.ciphers = ciphers
        options.concurrency = concurrency
        options.deadline = deadline
        options.output = output
        options.shard = shard
        options.resume = resume
        options.perHost = perHost
        options.delay = delay
        options.role = role
        options.noMTASTS = noMTASTS
        options.noInjectionTest = noInjectionTest
        options.verbose = verbose
        options.long = long
        options.dane = dane
        options.noDane = noDane
        options.trustAnchor = trustAnchor
        options.noColor = noColor
        return options
    }

    mutating func validate() throws {
        try options.validate()
    }

    func run() throws {
        try options.run()
    }
}

/// The targets of a run: the command line's, then the lines of `--input`, read as they are needed.
struct InputSequence: Sequence, IteratorProtocol {
    var arguments: [TargetInput]
    var lines: InputLines?
    private var index = 0

    init(arguments: [TargetInput]) {
        self.arguments = arguments
    }

    mutating func next() -> TargetInput? {
        if index < arguments.count {
            defer { index += 1 }
            return arguments[index]
        }
        return lines?.next()
    }
}

/// Where results go: stdout, or `--output FILE`.
enum OutputDestination {
    /// Written as targets finish, to this descriptor (stdout, or the file opened for appending).
    case stream(fd: Int32)
    /// Written once at the end, replacing FILE through a temporary file beside it.
    case replace(path: String)

    struct OpenError: Error, CustomStringConvertible {
        var description: String
    }

    /// `continuing`: the length of the earlier run's complete lines when FILE is also the `--resume` file.
    static func open(_ path: String?, format: OutputFormat, continuing: Int?) throws(OpenError) -> OutputDestination {
        guard let path else { return .stream(fd: STDOUT_FILENO) }
        if format.writtenAtEnd { return .replace(path: path) }
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (continuing == nil ? O_TRUNC : 0)
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw OpenError(description: "--output \(path): \(String(cString: strerror(errno)))") }
        if let continuing {
            // Whatever follows the last complete line is a line cut off by a killed run: written again.
            guard ftruncate(fd, off_t(continuing)) == 0, lseek(fd, 0, SEEK_END) >= 0 else {
                throw OpenError(description: "--output \(path): \(String(cString: strerror(errno)))")
            }
        }
        return .stream(fd: fd)
    }
}

extension OutputFormat {
    /// Formats that describe the whole run, so they are written once it is over.
    var writtenAtEnd: Bool { self == .nagios || self == .prometheus }
}

/// Turns each finished target into output. The engine calls `write` for one target at a time and `finish`
/// comes after the run, so the state here is never touched by two threads at once.
final class ResultWriter: @unchecked Sendable {
    private let format: OutputFormat
    private let text: TextReport
    private let destination: OutputDestination
    private let thresholds: (warn: Int, crit: Int)
    private let domainMode: Bool
    private var written = 0
    /// For the formats written at the end: every object of the run.
    private var collected: [JSONValue] = []
    /// Text of a run of host targets without --long: the objects, for one table at the end.
    private var held: [ReportObject] = []

    init(format: OutputFormat, text: TextReport, destination: OutputDestination, warnDays: Int, critDays: Int, domainMode: Bool) {
        self.format = format
        self.text = text
        self.destination = destination
        thresholds = (warnDays, critDays)
        self.domainMode = domainMode
    }

    func write(_ result: TargetResult) {
        var block: String
        switch format {
        case .json:
            // Appended line by line: joined() is generic code that looks up conformances at run time.
            block = ""
            for object in result.objects {
                block += JSONReport.value(for: object).serialized()
                block += "\n"
            }
        case .text where !text.long && !domainMode:
            held += result.objects
            return
        case .text:
            block = (written > 0 ? "\n" : "") + text.render(result) + "\n"
        case .nagios, .prometheus:
            collected += result.objects.map(JSONReport.value(for:))
            return
        }
        written += 1
        if case .stream(let fd) = destination {
            FileDescriptor.writeAll(fd, &block)
        }
    }

    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    /// Writes what the formats of the whole run have gathered: to stdout, or replacing FILE through a
    /// temporary file beside it (never named *.prom, so a textfile collector never reads it).
    func finish() throws(WriteError) {
        var output: String
        switch format {
        case .text where !held.isEmpty:
            output = text.overview(held) + "\n"
            held = []
        case .nagios: output = NagiosReport.render(objects: collected, warnDays: thresholds.warn, critDays: thresholds.crit, domainMode: domainMode)
        case .prometheus: output = PrometheusReport.render(objects: collected, domainMode: domainMode)
        case .json, .text: return
        }
        switch destination {
        case .stream(let fd):
            FileDescriptor.writeAll(fd, &output)
        case .replace(let path):
            let url = URL(fileURLWithPath: path)
            let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
            let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw WriteError(description: "--output \(path): cannot write \(temporary): \(String(cString: strerror(errno)))") }
            FileDescriptor.writeAll(fd, &output)
            let synced = fsync(fd) == 0
            close(fd)
            guard synced, rename(temporary, path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw WriteError(description: "--output \(path): \(reason)")
            }
        }
    }
}

enum FileDescriptor {
    /// One write of the whole block where the kernel takes it (a target's objects together), looping on short writes.
    static func writeAll(_ fd: Int32, _ text: inout String) {
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if count > 0 {
                    offset += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}

/// The open-file limit: raised to the hard limit at start, and `--concurrency` lowered to what it allows.
enum OpenFiles {
    /// Each endpoint may hold two sockets (the check and the injection probe); lookups and the process hold more.
    static func allowedConcurrency(_ wanted: Int, lookups: Int, say: (String) -> Void) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return wanted }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let reserve = 32 + 2 * min(lookups, wanted)
        let available = Int(min(limit.rlim_cur, 1 << 30)) - reserve
        let allowed = max(1, available / 2)
        if wanted > allowed {
            say("--concurrency \(wanted) needs about \(2 * wanted + reserve) open files, but the limit is \(limit.rlim_cur): checking \(allowed) endpoint\(allowed == 1 ? "" : "s") at once")
            return allowed
        }
        return wanted
    }
}

/// SIGINT and SIGTERM, taken by one thread: the first stops the run, a second ends the process at once.
final class SignalWatcher: Sendable {
    private let handler = Locked<(@Sendable (Int32) -> Void)?>(nil)

    static func blockTerminationSignals() -> SignalWatcher {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let watcher = SignalWatcher()
        DetachedThread.start(stackSize: 64 << 10) { [watcher, set] in
            var set = set
            var seen = 0
            while true {
                var signal: Int32 = 0
                guard sigwait(&set, &signal) == 0 else { continue }
                seen += 1
                if seen > 1 { _exit(128 + signal) }
                let handler = watcher.handler.withLock { $0 }
                if let handler { handler(signal) } else { _exit(128 + signal) }
            }
        }
        return watcher
    }

    func onSignal(_ handler: @escaping @Sendable (Int32) -> Void) {
        self.handler.withLock { $0 = handler }
    }
}

/// The progress line on stderr (a terminal only): targets done, failures, elapsed; cleared before each
/// result and at the end, then a one-line summary. Called one target at a time, like the writer.
final class Progress: @unchecked Sendable {
    private let enabled: Bool
    private let started = Date()
    private var targets = 0
    private var counts = StatusCounts()

    init(enabled: Bool) {
        self.enabled = enabled
    }

    private var elapsed: String { String(cFormat: "%.1f s", Date().timeIntervalSince(started)) }

    func clear() {
        if enabled { StandardStream.error.write("\r\u{1B}[K") }
    }

    func update(_ result: TargetResult) {
        targets += 1
        for object in result.objects { counts.add(object.status) }
        guard enabled else { return }
        let failed = counts[.critical] + counts[.unknown]
        StandardStream.error.write("[\(targets) done] \(failed) failed, \(elapsed)")
    }

    func finish() {
        guard enabled else { return }
        clear()
        let parts = [Status.ok, .warning, .critical, .unknown].map { "\(counts[$0]) \($0.rawValue)" }
        let objects = counts.total
        StandardError().write("\(targets) targets, \(objects) results: \(parts.joined(separator: ", ")) (\(elapsed))")
    }
}

struct StandardError: Sendable {
    func write(_ line: String) {
        // Server text reaches stderr in messages and the transcript: each line escaped, so none drives the terminal.
        StandardStream.error.write(line.split(separator: "\n", omittingEmptySubsequences: false).map { TerminalText.escaped(String($0)) }.joined(separator: "\n") + "\n")
    }
}

enum Terminal {
    /// Colour only on a terminal, never with NO_COLOR set or TERM=dumb.
    static func wantsColour(fileDescriptor: Int32) -> Bool {
        guard isatty(fileDescriptor) == 1 else { return false }
        // getenv: ProcessInfo would copy the whole environment into a dictionary.
        if let noColor = getenv("NO_COLOR"), noColor.pointee != 0 { return false }
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        return true
    }
}
