import ArgumentParser
import MXCheckCore

/// An `smtp` command line made only of targets, `--name value` / `--name=value` options and plain flags, each
/// option at most once, read without the argument parser (issue 13: the parser's reflection over some 30
/// options costs about 4 ms of CPU at every start, more than the rest of a basic check's own code).
/// Anything else (help, version, completions, `--`, short clusters, a repeated or unknown option, a value that
/// does not convert or starts with '-', a command line `validate()` refuses) gives nil, and the parser then
/// reads the same command line with its own results and messages.
enum PlainSMTPArguments {

    /// The options that take a value, by long name; each sets its property on the command.
    private static let valueOptions: [String: @Sendable (inout SMTPCommand, String) -> Bool] = [
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
    private static let flags: [String: @Sendable (inout SMTPCommand) -> Void] = [
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

    /// The validated command for `arguments` (the command line without the program name), or nil when the
    /// parser must read it.
    static func command(_ arguments: some Collection<String>) -> SMTPCommand? {
        guard arguments.first == "smtp" else { return nil }
        var command = SMTPCommand.withDefaults()
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

extension SMTPCommand {
    /// A command with every property at the default its declaration gives (the parser's defaults for options
    /// not given).
    static func withDefaults() -> SMTPCommand {
        var command = SMTPCommand()
        command.targets = []
        command.mx = false
        command.resolver = nil
        command.input = nil
        command.port = 25
        command.tls = .auto
        command.servername = nil
        command.ehlo = nil
        command.caFile = nil
        command.warnDays = 14
        command.critDays = 7
        command.timeout = 30
        command.ipv4Only = false
        command.ipv6Only = false
        command.format = .text
        command.json = false
        command.protocols = false
        command.ciphers = false
        command.concurrency = 16
        command.deadline = nil
        command.output = nil
        command.shard = nil
        command.resume = nil
        command.perHost = 2
        command.delay = 0
        command.role = nil
        command.noMTASTS = false
        command.noInjectionTest = false
        command.verbose = false
        command.long = false
        command.dane = false
        command.noDane = false
        command.trustAnchor = nil
        command.noColor = false
        return command
    }
}
