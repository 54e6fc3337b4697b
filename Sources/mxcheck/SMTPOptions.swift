import ArgumentParser
import FoundationEssentials
import Glibc
import MXCheckCore

/// The values of an `smtp` command line, as plain properties with their defaults: the parser fills them from
/// SMTPCommand's options, and PlainSMTPArguments from a plain command line without the parser (whose property
/// wrappers cost more to build than the rest of a basic check's own code). The run reads only these.
struct SMTPOptions: Equatable {
    var targets: [String] = []
    var mx = false
    var resolver: String?
    var input: String?
    var port: Int = 25
    var tls: TLSMode = .auto
    var servername: String?
    var ehlo: String?
    var caFile: String?
    var warnDays: Int = 14
    var critDays: Int = 7
    var timeout: Double = 30
    var ipv4Only = false
    var ipv6Only = false
    var format: OutputFormat = .text
    var json = false
    var protocols = false
    var ciphers = false
    var concurrency: Int = 16
    var deadline: Double?
    var output: String?
    var shard: String?
    var resume: String?
    var perHost: Int = 2
    var delay: Int = 0
    var role: PortRole?
    var noMTASTS = false
    var noInjectionTest = false
    var verbose = false
    var long = false
    var dane = false
    var noDane = false
    var trustAnchor: String?
    var noColor = false

    func validate() throws {
        guard !targets.isEmpty || input != nil else {
            throw ValidationError("give at least one target, e.g. 'mxcheck smtp mx.example.com', or --input FILE")
        }
        guard (1...65535).contains(port) else { throw ValidationError("--port must be from 1 to 65535") }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be more than 0 and at most 3600 seconds") }
        guard warnDays >= 0, critDays >= 0 else { throw ValidationError("--warn-days and --crit-days must not be negative") }
        guard critDays <= warnDays else { throw ValidationError("--crit-days (\(critDays)) must not exceed --warn-days (\(warnDays))") }
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 10000") }
        if let deadline { guard deadline > 0, deadline <= 31_536_000 else { throw ValidationError("--deadline must be more than 0 seconds (and at most a year)") } }
        if let shard {
            do { _ = try Shard.parse(shard) } catch { throw ValidationError(error.description) }
        }
        if resume != nil && (json ? .json : format) != .json {
            throw ValidationError("--resume reads JSON output: use it with --json (or --format json)")
        }
        if let output, output.isEmpty { throw ValidationError("--output needs a file name") }
        guard (1...64).contains(perHost) else { throw ValidationError("--per-host must be from 1 to 64") }
        guard (0...60_000).contains(delay) else { throw ValidationError("--delay must be from 0 to 60000 milliseconds") }
        guard !(ipv4Only && ipv6Only) else { throw ValidationError("-4 and -6 exclude each other") }
        if let ehlo, ehlo.isEmpty || ehlo.contains(where: { $0.isWhitespace || !$0.isASCII }) {
            throw ValidationError("--ehlo must be a host name or an address literal, without spaces")
        }
        guard !(dane && noDane) else { throw ValidationError("--dane and --no-dane exclude each other") }
        if let trustAnchor {
            do { _ = try TrustAnchorFile.owners(ofFile: trustAnchor) } catch { throw ValidationError("--trust-anchor: \(error.description)") }
        }
        if let servername, (try? Target.parse(servername)) == nil {
            throw ValidationError("--servername must be a host name or an IP address")
        }
    }

    func run() throws {
        let outputFormat: OutputFormat = json ? .json : format
        let stderr = StandardError()
        // One target: its check runs on this thread (RunConfiguration.singleInput), and the few threads
        // beside it share one malloc arena, which is set before any thread starts.
        let singleInput = targets.count <= 1 && input == nil
        if singleInput { RunConfiguration.useOneMallocArena() }
        // Signals are taken by one thread (sigwait), so they must be blocked before any other thread starts.
        let signals = SignalWatcher.blockTerminationSignals()

        var configuration = RunConfiguration()
        configuration.kind = mx ? .domain : .host
        configuration.defaultPort = UInt16(port)
        configuration.tls = tls
        configuration.serverName = servername
        configuration.ehloName = ehlo ?? LocalHost.ehloName()
        configuration.family = ipv4Only ? .ipv4Only : (ipv6Only ? .ipv6Only : .any)
        configuration.timeout = timeout
        configuration.perHost = perHost
        configuration.delayMilliseconds = delay
        configuration.injectionTest = !noInjectionTest
        configuration.probing = ciphers ? .ciphers : (protocols ? .protocols : nil)
        configuration.role = role
        configuration.warnDays = warnDays
        configuration.critDays = critDays
        configuration.deadline = deadline
        configuration.dane = dane ? true : (noDane ? false : nil)
        configuration.trustAnchorFile = trustAnchor
        if let shard {
            do { configuration.shard = try Shard.parse(shard) } catch { throw ValidationError(error.description) }
        }
        configuration.concurrency = OpenFiles.allowedConcurrency(concurrency, lookups: configuration.resolutionConcurrency) { stderr.write("mxcheck: \($0)") }

        var inputs = InputSequence(arguments: targets.map { TargetInput($0) })
        if let input {
            do { inputs.lines = try InputLines(path: input) } catch {
                stderr.write("mxcheck: \(error.description)")
                throw ExitCode(3)
            }
        }
        configuration.singleInput = singleInput
        var earlier = ResumeFile()
        if let resume {
            do { earlier = try ResumeFile.read(resume) } catch {
                stderr.write("mxcheck: \(error.description)")
                throw ExitCode(3)
            }
        }

        // The TLS context is built while the first connection's plaintext dialogue waits for the server. The
        // trust store's anchors are parsed later, while the first handshake waits (TrustStore.loadAnchors):
        // two OpenSSL set-ups at once would slow each other down.
        let context = TLSClientContext(buildingInBackground: ())
        defer { context.finishBuilding() }
        let trustStore: TrustStore
        do { trustStore = try TrustStore(extraCAFile: caFile) } catch {
            stderr.write("mxcheck: \(error.description)")
            throw ExitCode(3)
        }
        defer { trustStore.finishLoading() }

        // The DNS library serves domain mode, and plain host names too when --resolver or --dane is given. With
        // DANE a second, validating resolver (the trust anchor) serves once the resolver proves to carry DNSSEC.
        var dns: DNSResolver?
        var dnssec: DNSSECLookups?
        let evaluatesDANE = configuration.evaluatesDANE
        if mx || resolver != nil || evaluatesDANE {
            do {
                let plain = try DNSResolver(.commandLine(resolver: resolver))
                dns = plain
                if evaluatesDANE {
                    let validating = try DNSResolver(.commandLine(resolver: resolver, trustAnchor: trustAnchor))
                    dnssec = DNSSECLookups(validating: SharedDNSLookup(validating), plain: SharedDNSLookup(plain),
                                           trustAnchorFile: validating.configuration.trustAnchorFile, timeout: configuration.lookupTimeout)
                }
            } catch {
                stderr.write("mxcheck: \(error.description)")
                throw ExitCode(3)
            }
        }

        let destination: OutputDestination
        do {
            destination = try OutputDestination.open(output, format: outputFormat, continuing: resume == output ? earlier.completeLength : nil)
        } catch {
            stderr.write("mxcheck: \(error)")
            throw ExitCode(3)
        }

        let checker = Checker(context: context, trustStore: trustStore, settings: configuration.checkSettings)
        let verbose = verbose
        let tagTranscript = !singleInput || mx
        var transcript: (@Sendable (Endpoint) -> (@Sendable (String) -> Void)?)?
        if verbose {
            // Each block (a whole reply) in one write, so connections never interleave mid-reply.
            transcript = { endpoint in
                let prefix = "\(endpoint.address.contains(":") ? "[\(endpoint.address)]" : endpoint.address):\(endpoint.port)"
                return { block in stderr.write(tagTranscript ? Transcript.tagged(prefix, block) : block) }
            }
        }
        let resolution = dnssec.map { LiveResolver(dnssec: $0, hostsThroughDNS: true) } ?? LiveResolver(dns: dns, hostsThroughDNS: resolver != nil)
        var policies = PolicyStep()
        if let dnssec { policies.dane = DANEPolicyStep(dns: dnssec, timeout: configuration.lookupTimeout) }
        let engine = RunEngine(
            configuration: configuration,
            checker: SMTPEndpointChecker(checker: checker, probe: configuration.probeSettings),
            resolver: resolution, policies: policies,
            transcript: transcript,
            mailPolicy: mx && !noMTASTS ? dns.map { LiveMailPolicy(dns: $0, trustStore: trustStore, context: context, timeout: timeout) } : nil)
        signals.onSignal { engine.interrupt(signal: $0) }

        let writer = ResultWriter(
            format: outputFormat, text: TextReport(colour: output == nil && !noColor && Terminal.wantsColour(fileDescriptor: STDOUT_FILENO), long: long),
            destination: destination, warnDays: warnDays, critDays: critDays, domainMode: mx)
        let progress = Progress(enabled: isatty(STDERR_FILENO) == 1 && !verbose && (!singleInput || mx))
        let summary: RunSummary = engine.run(inputs, skipping: earlier.answered) { result in
            progress.clear()
            writer.write(result)
            progress.update(result)
        }
        progress.finish()
        if let problem = inputs.lines?.readError {
            stderr.write("mxcheck: \(problem); the targets read before it were checked")
        }
        let anchorProblem = trustStore.anchorProblem
        if let anchorProblem {
            stderr.write("mxcheck: \(anchorProblem.description); the chains were verified without its anchors")
        }
        if case .interrupted(let signal) = summary.end {
            if outputFormat == .text { try? writer.finish() }
            let target = output ?? "FILE"
            stderr.write("mxcheck: interrupted: \(summary.targets) target\(summary.targets == 1 ? "" : "s") done; "
                + "run the same command with --output \(target) --resume \(target) to check the rest")
            throw ExitCode(128 + signal)
        }
        do { try writer.finish() } catch {
            stderr.write("mxcheck: \(error)")
            throw ExitCode(3)
        }
        if summary.end == .deadline {
            stderr.write("mxcheck: the --deadline passed; targets not done were answered with run.deadline")
        }
        var statuses = summary.objects
        statuses.add(earlier.statuses)
        var worst = statuses.worst
        if inputs.lines?.readError != nil || anchorProblem != nil { worst = Swift.max(worst ?? .unknown, .unknown) }
        if let worst, worst != .ok {
            throw ExitCode(worst.exitCode)
        }
    }
}
