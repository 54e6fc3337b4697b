import ArgumentParser
import MXCheckCore

/// An `smtp` command line made only of targets, `--name value` / `--name=value` options and plain flags, each
/// option at most once, read without the argument parser into SMTPOptions (issue 13: the parser's reflection
/// over some 30 options, and even building SMTPCommand's property wrappers, cost more CPU at every start than
/// the rest of a basic check's own code).
/// Anything else (help, version, completions, `--`, short clusters, a repeated or unknown option, a value that
/// does not convert or starts with '-', a command line `validate()` refuses) gives nil, and the parser then
/// reads the same command line with its own results and messages.
enum PlainSMTPArguments {

    /// The options that take a value, by long name; each sets its property on the command.
    private static let valueOptions: [String: @Sendable (inout SMTPOptions, String) -> Bool] = [
        "resolver": { $0.resolver = $1; return true },
        "input": { $0.input = $1; return true },
        "port": { command, text in Int(text).map { command.port = $0 } != nil },
        "tls": { command, text in TLSMode(rawValue: text).map { command.tls = $0 } != nil },
        "servername": { $0.servername = $1; return true },
        "ehlo": { $0.ehlo = $1; return true },
        "ca-file": { $0.caFile = $1; return true },
        "warn-days": { command, text in Int(text).map { command.warnDays = $0 } != nil },
        "crit-days": { command, text in Int(text).map { command.critDays = $0 } != nil },
        "timeout": { command, text in Double(text).map { command.timeout = $0 } != nil },
        "format": { command, text in OutputFormat(rawValue: text).map { command.format = $0 } != nil },
        "concurrency": { command, text in Int(text).map { command.concurrency = $0 } != nil },
        "deadline": { command, text in Double(text).map { command.deadline = $0 } != nil },
        "output": { $0.output = $1; return true },
        "shard": { $0.shard = $1; return true },
        "resume": { $0.resume = $1; return true },
        "per-host": { command, text in Int(text).map { command.perHost = $0 } != nil },
        "delay": { command, text in Int(text).map { command.delay = $0 } != nil },
        "role": { command, text in PortRole(rawValue: text).map { command.role = $0 } != nil },
        "trust-anchor": { $0.trustAnchor = $1; return true },
    ]

    /// The flags, by their spelling on the command line (long with "--", short with "-").
    private static let flags: [String: @Sendable (inout SMTPOptions) -> Void] = [
        "--mx": { $0.mx = true },
        "-4": { $0.ipv4Only = true },
        "-6": { $0.ipv6Only = true },
        "--json": { $0.json = true },
        "--protocols": { $0.protocols = true },
        "--ciphers": { $0.ciphers = true },
        "--no-mta-sts": { $0.noMTASTS = true },
        "--no-injection-test": { $0.noInjectionTest = true },
        "-v": { $0.verbose = true },
        "--verbose": { $0.verbose = true },
        "--long": { $0.long = true },
        "--dane": { $0.dane = true },
        "--no-dane": { $0.noDane = true },
        "--no-color": { $0.noColor = true },
    ]

    /// The validated options of `arguments` (the command line without the program name), or nil when the
    /// parser must read it.
    static func options(_ arguments: some Collection<String>) -> SMTPOptions? {
        guard arguments.first == "smtp" else { return nil }
        var command = SMTPOptions()
        var seen: Set<String> = []
        var targets: [String] = []
        var rest = arguments.dropFirst()[...]
        while let argument = rest.popFirst() {
            if !argument.hasPrefix("-") {
                guard argument != "help" else { return nil }
                targets.append(argument)
                continue
            }
            if let flag = flags[argument] {
                // -v and --verbose are one flag.
                guard seen.insert(argument == "-v" ? "--verbose" : argument).inserted else { return nil }
                flag(&command)
                continue
            }
            guard argument.hasPrefix("--") else { return nil }
            let name: Substring
            let value: String
            if let equals = argument.firstIndex(of: "=") {
                name = argument[argument.index(argument.startIndex, offsetBy: 2)..<equals]
                value = String(argument[argument.index(after: equals)...])
            } else {
                name = argument.dropFirst(2)
                guard let next = rest.popFirst() else { return nil }
                value = next
            }
            guard let set = valueOptions[String(name)], !value.isEmpty, !value.hasPrefix("-"),
                  seen.insert(String(name)).inserted, set(&command, value) else { return nil }
        }
        command.targets = targets
        do { try command.validate() } catch { return nil }
        return command
    }
}
