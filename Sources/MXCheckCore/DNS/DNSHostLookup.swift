extension DNSLookup {
    /// A and AAAA of a plain host target through this resolver (used when `--resolver` is given), failing the way
    /// `SystemResolver.addresses(of:family:timeout:)` does, so the command line treats both alike.
    public func addresses(of host: String, family: AddressFamilyFilter, timeout: Double) throws(ResolutionError) -> [String] {
        try addresses(of: host, family: family, deadline: Deadline(secondsFromNow: timeout), timeout: timeout)
    }

    public func addresses(of host: String, family: AddressFamilyFilter, deadline: Deadline, timeout: Double) throws(ResolutionError) -> [String] {
        let name = DNSName.display(host)
        let questions = [DNSQuestion(name, .a), DNSQuestion(name, .aaaa)]
        let results = answers(to: questions, deadline: deadline)
        var addresses: [String] = []
        var timedOut = 0
        var failure: String?
        for result in results {
            switch result {
            case .failure(.timeout):
                timedOut += 1
            case .failure(let error):
                failure = failure ?? "\(error)"
            case .success(let answer) where answer.rcode == .nxDomain:
                throw .notFound(host: name, reason: "no such host")
            // A bogus NOERROR answer (only a validating lookup gives one: `--dane`) still names the host's
            // addresses; DANE reports it as dane.dnssec_bogus.
            case .success(let answer) where answer.rcode != .noError:
                failure = failure ?? "the resolver answered \(answer.rcode)"
            case .success(let answer):
                do {
                    addresses += try answer.addresses().filter { !addresses.contains($0) }
                } catch {
                    failure = failure ?? "malformed \(answer.question.type) answer: \(error)"
                }
            }
        }
        if addresses.isEmpty {
            if timedOut == questions.count { throw .timeout(host: name, seconds: timeout) }
            throw .notFound(host: name, reason: failure ?? (timedOut > 0 ? "no answer for one address family" : "no address"))
        }
        let admitted = addresses.filter { family.admits($0) }
        guard !admitted.isEmpty else { throw .noAddressInFamily(host: name) }
        return admitted
    }
}
