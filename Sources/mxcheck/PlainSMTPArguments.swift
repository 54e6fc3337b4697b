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

    /// Sets the option `name` (its long name) to `text`; false when there is no such option taking a value or
    /// the text does not convert. A switch rather than a dictionary of closures: building that dictionary
    /// at every start costs the Swift runtime more than all the comparisons of a command line.
    private static func set(_ name: Substring, to text: String, on command: inout SMTPOptions) -> Bool {
        switch name {
        case "resolver": command.resolver = text
        case "input": command.input = text
        case "port": guard let value = Int(text) else { return false }; command.port = value
        case "tls": guard let value = TLSMode(rawValue: text) else { return false }; command.tls = value
        case "servername": command.servername = text
        case "ehlo": command.ehlo = text
        case "ca-file": command.caFile = text
        case "warn-days": guard let value = Int(text) else { return false }; command.warnDays = value
        case "crit-days": guard let value = Int(text) else { return false }; command.critDays = value
        case "timeout": guard let value = Double(text) else { return false }; command.timeout = value
        case "format": guard let value = OutputFormat(rawValue: text) else { return false }; command.format = value
        case "concurrency": guard let value = Int(text) else { return false }; command.concurrency = value
        case "deadline": guard let value = Double(text) else { return false }; command.deadline = value
        case "output": command.output = text
        case "shard": command.shard = text
        case "resume": command.resume = text
        case "per-host": guard let value = Int(text) else { return false }; command.perHost = value
        case "delay": guard let value = Int(text) else { return false }; command.delay = value
        case "role": guard let value = PortRole(rawValue: text) else { return false }; command.role = value
        case "trust-anchor": command.trustAnchor = text
        default: return false
        }
        return true
    }

    /// Sets the flag spelt `argument` (long with "--", short with "-") and returns its one name (-v and
    /// --verbose are one flag), or nil when there is no such flag.
    private static func setFlag(_ argument: String, on command: inout SMTPOptions) -> String? {
        switch argument {
        case "--mx": command.mx = true
        case "-4": command.ipv4Only = true
        case "-6": command.ipv6Only = true
        case "--json": command.json = true
        case "--protocols": command.protocols = true
        case "--ciphers": command.ciphers = true
        case "--no-mta-sts": command.noMTASTS = true
        case "--no-injection-test": command.noInjectionTest = true
        case "-v", "--verbose": command.verbose = true; return "--verbose"
        case "--long": command.long = true
        case "--dane": command.dane = true
        case "--no-dane": command.noDane = true
        case "--no-color": command.noColor = true
        default: return nil
        }
        return argument
    }

    /// The validated options of `arguments` (the command line without the program name), or nil when the
    /// parser must read it.
    static func options(_ arguments: some Collection<String>) -> SMTPOptions? {
        guard arguments.first == "smtp" else { return nil }
        var command = SMTPOptions()
        // The options given so far, to refuse a repeated one: a few names, so an array.
        var seen: [String] = []
        var targets: [String] = []
        var rest = arguments.dropFirst()[...]
        while let argument = rest.popFirst() {
            if !argument.hasPrefix("-") {
                guard argument != "help" else { return nil }
                targets.append(argument)
                continue
            }
            if let flag = setFlag(argument, on: &command) {
                guard !seen.contains(flag) else { return nil }
                seen.append(flag)
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
            guard !value.isEmpty, !value.hasPrefix("-"), !seen.contains(where: { $0 == name }),
                  set(name, to: value, on: &command) else { return nil }
            seen.append(String(name))
        }
        command.targets = targets
        do { try command.validate() } catch { return nil }
        return command
    }
}
