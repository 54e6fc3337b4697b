import ArgumentParser
import FoundationEssentials
import Glibc
import MXCheckCore

@main
struct MXCheck: ParsableCommand {

    static let configuration = CommandConfiguration(
        commandName: "mxcheck",
        abstract: "Check the STARTTLS and TLS setup of SMTP servers, the way a careful sending server would.",
        discussion: """
            Exit codes follow the monitoring-plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN \
            (including usage errors and names that do not resolve).
            """,
        version: MXCheckVersion.current,
        subcommands: [SMTPCommand.self, HeadersCommand.self]
    )

    /// Parses and runs like ParsableCommand.main, except that a usage error exits 3 (UNKNOWN), not 64.
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        // `mxcheck --version` alone is answered without the parser, whose reflection would cost more than the rest.
        if CommandLine.arguments.count == 2, CommandLine.arguments[1] == "--version" {
            StandardStream.output.write(MXCheckVersion.current + "\n")
            Glibc.exit(0)
        }
        do {
            // A plain `smtp` command line skips the parser's reflection; every other goes through the parser.
            if let options = PlainSMTPArguments.options(CommandLine.arguments.dropFirst()) {
                try options.run()
            } else {
                var command = try parseAsRoot()
                try command.run()
            }
            Glibc.exit(0)
        } catch let exit as ExitCode {
            Glibc.exit(exit.rawValue)
        } catch {
            // Help and version requests arrive as errors whose exit code is success.
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            StandardStream.error.write(fullMessage(for: error) + "\n")
            Glibc.exit(3)
        }
    }
}
