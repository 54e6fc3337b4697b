import Glibc

/// Standard output or error written with write(2), every byte (the executable imports no full Foundation,
/// whose FileHandle this replaces).
enum StandardStream {
    case output, error

    func write(_ text: String) {
        var text = text
        FileDescriptor.writeAll(self == .output ? STDOUT_FILENO : STDERR_FILENO, &text)
    }
}
