import ArgumentParser
import FoundationEssentials
import Glibc
import MXCheckCore

struct HeadersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "headers",
        abstract: "Read a delivered message and say, hop by hop, which Received hops used TLS.",
        discussion: """
            FILE is a message as delivered: an .eml file, an mbox entry (its "From " line is skipped) or just its \
            header block; '-' reads standard input. Only the header block is read (up to 1 MB or 1,000 fields), \
            never the body, so Received fields quoted in the body or in an attached message are not hops.

            Each Received field is a hop. Text output lists them in delivery order (oldest first): sender -> \
            receiver, protocol, TLS version and cipher or PLAINTEXT, date; then the findings with their fixes. \
            A hop is plaintext when a field between two different hosts says SMTP/ESMTP without TLS; a host \
            handing mail to itself (loopback, the same name or address, 'with local') is not counted.

            Findings: headers.plaintext_hop and headers.legacy_tls_hop (warning), headers.unparsed_hop (info), \
            headers.no_received (unknown). Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also when FILE \
            cannot be read).
            """
    )

    @Argument(help: ArgumentHelp("The message, or '-' for standard input.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Output format: text or json (one JSON object).", valueName: "format"))
    var format: OutputFormat = .text

    @Flag(help: "Same as --format json.")
    var json = false

    func run() throws {
        let block: HeaderBlock
        do {
            block = try HeaderBlockReader.read(path: file)
        } catch {
            StandardStream.error.write("mxcheck headers: \(error.description)\n")
            throw ExitCode(3)
        }
        let trace = HeaderTrace(block)
        let output = (json ? .json : format) == .json
            ? trace.json.serialized()
            : HeaderTextReport.render(trace, source: file == "-" ? "standard input" : file)
        StandardStream.output.write(output + "\n")
        throw ExitCode(trace.status.exitCode)
    }
}
