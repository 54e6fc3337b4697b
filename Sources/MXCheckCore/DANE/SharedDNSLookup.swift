import FoundationEssentials
import Glibc

/// A `DNSLookup` that asks each question at most once per run, for any number of threads: answers and
/// failures are kept in a bounded cache (oldest dropped first), and a question another thread is asking is
/// waited for rather than asked again. Timeouts are not kept: a caller with a later deadline asks anew.
/// Every wait is bounded by the caller's deadline.
public final class SharedDNSLookup: DNSLookup, @unchecked Sendable {
    // Mutable state is touched only under `condition`; `base` is itself safe across threads (Sendable).
    private let base: any DNSLookup & Sendable
    private let capacity: Int
    private let condition = ConditionLock()
    private var entries: [DNSQuestion: Result<DNSAnswer, DNSError>] = [:]
    /// Insertion order, for dropping the oldest; `head` is the first live index.
    private var order: [DNSQuestion] = []
    private var head = 0
    private var inFlight: Set<DNSQuestion> = []
    private var asked = 0

    public init(_ base: any DNSLookup & Sendable, capacity: Int = 8192) {
        self.base = base
        self.capacity = max(1, capacity)
    }

    /// Keys are compared as DNS compares names: case-insensitively, with or without the trailing dot.
    private static func key(_ question: DNSQuestion) -> DNSQuestion {
        DNSQuestion(DNSName.normalized(question.name), question.type)
    }

    public func answers(to questions: [DNSQuestion], deadline: Deadline) -> [Result<DNSAnswer, DNSError>] {
        var results = [Result<DNSAnswer, DNSError>?](repeating: nil, count: questions.count)
        let keys = questions.map(Self.key)
        while true {
            // Under the lock: take what is cached, claim what nobody asks, note what others are asking.
            var claimed: [Int] = []
            var waiting = false
            condition.lock()
            var claimedKeys: Set<DNSQuestion> = []
            for index in questions.indices where results[index] == nil {
                if let cached = entries[keys[index]] {
                    results[index] = Self.relabel(cached, as: questions[index])
                } else if claimedKeys.contains(keys[index]) {
                    continue
                } else if inFlight.contains(keys[index]) {
                    waiting = true
                } else {
                    inFlight.insert(keys[index])
                    claimedKeys.insert(keys[index])
                    claimed.append(index)
                }
            }
            if claimed.isEmpty && waiting {
                if deadline.hasPassed {
                    condition.unlock()
                    break
                }
                let seconds = Double(deadline.remainingMilliseconds) / 1000
                _ = condition.wait(until: Date(timeIntervalSinceNow: min(seconds, 1)))
                condition.unlock()
                continue
            }
            condition.unlock()
            guard !claimed.isEmpty else { break }
            let answered = base.answers(to: claimed.map { questions[$0] }, deadline: deadline)
            condition.lock()
            asked += claimed.count
            for (position, index) in claimed.enumerated() {
                let result = position < answered.count ? answered[position] : .failure(.timeout(questions[index]))
                inFlight.remove(keys[index])
                if case .failure(.timeout) = result {} else { store(result, for: keys[index]) }
                results[index] = result
            }
            condition.broadcast()
            condition.unlock()
            // Duplicates within this batch, and questions others were asking, are filled on the next pass.
            if results.allSatisfy({ $0 != nil }) { break }
        }
        return questions.indices.map { results[$0] ?? .failure(.timeout(questions[$0])) }
    }

    /// Called under the lock.
    private func store(_ result: Result<DNSAnswer, DNSError>, for key: DNSQuestion) {
        if entries.updateValue(result, forKey: key) == nil {
            order.append(key)
        }
        while entries.count > capacity, head < order.count {
            entries[order[head]] = nil
            head += 1
        }
        // Compact the order list once its dead prefix outgrows the live part.
        if head > capacity {
            order.removeFirst(head)
            head = 0
        }
    }

    /// A cached answer handed to a caller who spelled the name differently keeps the caller's question.
    private static func relabel(_ result: Result<DNSAnswer, DNSError>, as question: DNSQuestion) -> Result<DNSAnswer, DNSError> {
        guard case .success(var answer) = result else { return result }
        answer.question = question
        return .success(answer)
    }

    /// How many questions were sent to the underlying lookup.
    public var questionsAsked: Int {
        condition.lock()
        defer { condition.unlock() }
        return asked
    }

    /// How many answers are kept now.
    public var cachedCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return entries.count
    }
}
