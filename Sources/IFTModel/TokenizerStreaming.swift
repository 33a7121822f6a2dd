extension Tokenizer {
    /// Turns token ids into text as they arrive (e.g. from a sampler), handling tokens that end
    /// in the middle of a multi-byte UTF-8 character: each call returns only the text that is
    /// complete so far and keeps the incomplete tail (at most 3 bytes) for the next call.
    ///
    ///     var stream = tokenizer.streamingDecoder()
    ///     for id in generated { print(stream.append(id), terminator: "") }
    ///     print(stream.finish())
    ///
    /// For ids that decode to valid UTF-8, the concatenation of everything `append` and
    /// `finish` return equals `decode` of all the ids.
    public struct StreamingDecoder {
        public let tokenizer: Tokenizer
        public let skipSpecial: Bool
        private var pending: [UInt8] = []
        /// No byte has been seen yet (SentencePiece: the first space is the prefix's, dropped).
        private var atStart = true

        public init(tokenizer: Tokenizer, skipSpecial: Bool = false) {
            self.tokenizer = tokenizer
            self.skipSpecial = skipSpecial
        }

        /// The bytes received but not yet returned (an incomplete character).
        public var pendingBytes: [UInt8] { pending }

        /// Adds one token; returns the newly completed text (possibly empty).
        public mutating func append(_ id: Int32) -> String {
            tokenizer.appendBytes(of: id, to: &pending, skipSpecial: skipSpecial)
            return takeComplete()
        }

        /// Adds several tokens; returns the newly completed text.
        public mutating func append<S: Sequence>(contentsOf ids: S) -> String where S.Element == Int32 {
            for id in ids { tokenizer.appendBytes(of: id, to: &pending, skipSpecial: skipSpecial) }
            return takeComplete()
        }

        /// Returns whatever is left (an incomplete character becomes U+FFFD) and resets.
        public mutating func finish() -> String {
            defer {
                pending.removeAll()
                atStart = true
            }
            return String(decoding: pending, as: UTF8.self)
        }

        private mutating func takeComplete() -> String {
            if atStart && !pending.isEmpty {
                atStart = false
                if tokenizer.sentencePiece?.stripsLeadingSpace == true && pending.first == 0x20 { pending.removeFirst() }
            }
            let keep = Self.incompleteSuffix(pending)
            if keep == pending.count { return "" }
            let text = String(decoding: pending[..<(pending.count - keep)], as: UTF8.self)
            pending.removeFirst(pending.count - keep)
            return text
        }

        /// How many bytes at the end of `b` start a UTF-8 sequence that more bytes could complete.
        static func incompleteSuffix(_ b: [UInt8]) -> Int {
            let n = b.count
            var k = 1
            while k <= min(3, n) {
                let c = b[n - k]
                if c < 0x80 { return 0 }
                if c < 0xC0 {  // continuation byte: look further back
                    k += 1
                    continue
                }
                let need: Int
                switch c {
                case 0xC2...0xDF: need = 2
                case 0xE0...0xEF: need = 3
                case 0xF0...0xF4: need = 4
                default: return 0  // never valid
                }
                return need > k ? k : 0
            }
            return 0
        }
    }

    /// A streaming decoder over this tokenizer.
    public func streamingDecoder(skipSpecial: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecial: skipSpecial)
    }
}
