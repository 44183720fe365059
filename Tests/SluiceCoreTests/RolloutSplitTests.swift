import SluiceCore
import Testing

@Suite struct RolloutSplitTests {
    func envelope(_ message: String, messageId: String = "m") -> JSONText {
        Array(#"{"message":\#(message),"metadata":{"messageId":"\#(messageId)"}}"#.utf8)
    }

    /// The hash is FNV-1a + MurmurHash3's finaliser over salt, 0, key: the same numbers in every
    /// process and build (these were computed independently, in Python).
    @Test func bucketsAreStableAcrossProcesses() {
        #expect(RolloutSplit.bucket(key: Array("user-1".utf8), salt: "ro-test") == 7953)
        #expect(RolloutSplit.bucket(key: Array("anon-7".utf8), salt: "ro-test") == 8405)
        #expect(RolloutSplit.bucket(key: Array("42".utf8), salt: "ro-test") == 9949)
        #expect(RolloutSplit.bucket(key: [UInt8](), salt: "x") == 2725)
    }

    @Test func theKeyIsUserIdElseAnonymousIdElseMessageId() {
        #expect(RolloutSplit.stickyKey(of: envelope(#"{"userId":"u1","anonymousId":"a1","messageId":"m1"}"#)) == Array("u1".utf8))
        #expect(RolloutSplit.stickyKey(of: envelope(#"{"userId":"","anonymousId":"a1","messageId":"m1"}"#)) == Array("a1".utf8))
        #expect(RolloutSplit.stickyKey(of: envelope(#"{"userId":null,"messageId":"m1"}"#)) == Array("m1".utf8))
        #expect(RolloutSplit.stickyKey(of: envelope(#"{"userId":42}"#)) == Array("42".utf8), "a number's JSON text")
        #expect(RolloutSplit.stickyKey(of: envelope(#"{"userId":"\u0061b"}"#)) == Array("ab".utf8), "a string's decoded text")
        #expect(RolloutSplit.stickyKey(of: envelope(#"{"type":"track"}"#)) == nil, "the metadata's messageId is not the event's")
        #expect(RolloutSplit.stickyKey(of: Array(#"{"anonymousId":"bare"}"#.utf8)) == Array("bare".utf8), "a bare event")
    }

    @Test func theSameUserGoesTheSameWayInEveryBatchAndCall() {
        let salt = "ro-sticky"
        for user in 0..<2_000 {
            let first = RolloutSplit.runsCandidate(envelope(#"{"userId":"user-\#(user)","messageId":"a"}"#), candidateBasisPoints: 2_500, salt: salt)
            let second = RolloutSplit.runsCandidate(envelope(#"{"userId":"user-\#(user)","messageId":"b","event":"Other"}"#, messageId: "b"),
                                                    candidateBasisPoints: 2_500, salt: salt)
            #expect(first == second, "user-\(user)")
        }
        // Raising the share keeps everyone who ran the candidate on it.
        let users = (0..<5_000).map { envelope(#"{"userId":"u\#($0)"}"#) }
        let atTen = Set(users.indices.filter { RolloutSplit.runsCandidate(users[$0], candidateBasisPoints: 1_000, salt: salt) })
        let atTwentyFive = Set(users.indices.filter { RolloutSplit.runsCandidate(users[$0], candidateBasisPoints: 2_500, salt: salt) })
        #expect(atTen.isSubset(of: atTwentyFive) && atTwentyFive.count > atTen.count)
        // A batch's assignment is the same whichever batch the events come in.
        var batch = Batch(items: Array(users[0..<200]))
        let whole = RolloutSplit.assign(batch, candidateBasisPoints: 1_000, salt: salt)
        batch.items = Array(users[100..<200])
        #expect(RolloutSplit.assign(batch, candidateBasisPoints: 1_000, salt: salt).candidate.map { $0 + 100 } == whole.candidate.filter { $0 >= 100 })
    }

    @Test(arguments: [100, 1_000, 2_500, 5_000])
    func sharesHoldOver100kUsers(basisPoints: Int) {
        // Within ± 0.5 percentage points (± 500 of 100,000), as a rollout promises; a fair coin
        // stays within about 3.5 standard deviations of that at every share (± 110 to ± 550).
        let count = (0..<100_000).count { RolloutSplit.bucket(key: Array("user-\($0)".utf8), salt: "ro-share") < basisPoints }
        #expect(abs(count - basisPoints * 10) <= 500, "\(count) of 100000 for \(basisPoints) basis points")
    }

    @Test func eachRolloutAssignsUsersAfresh() {
        let keys = (0..<1_000).map { Array("user-\($0)".utf8) }
        let first = keys.map { RolloutSplit.bucket(key: $0, salt: "ro-a") < 5_000 }
        let second = keys.map { RolloutSplit.bucket(key: $0, salt: "ro-b") < 5_000 }
        let same = zip(first, second).count { $0 == $1 }
        #expect((400...600).contains(same), "independent halves agree about half the time: \(same)")
    }

    @Test func eventsWithoutAKeyAndAZeroShareRunLive() {
        #expect(!RolloutSplit.runsCandidate(envelope(#"{"type":"track"}"#), candidateBasisPoints: 10_000, salt: "s"))
        #expect(!RolloutSplit.runsCandidate(envelope(#"{"userId":"u"}"#), candidateBasisPoints: 0, salt: "s"))
        #expect(RolloutSplit.runsCandidate(envelope(#"{"userId":"u"}"#), candidateBasisPoints: 10_000, salt: "s"))
    }

    @Test func partsCarryTheirMetadataAndCredentialsReindexed() {
        var batch = Batch(items: (0..<4).map { envelope(#"{"n":\#($0)}"#, messageId: "m\($0)") }, credentials: ["k": "all"])
        batch.metadataTexts = (0..<4).map { Array(#"{"messageId":"m\#($0)"}"#.utf8) }
        batch.eventCredentials = [3: ["k": CredentialValue("own")]]
        let part = RolloutSplit.part(of: batch, indices: [1, 3])
        #expect(part.items == [batch.items[1], batch.items[3]])
        #expect(part.metadataTexts == [batch.metadataTexts![1], batch.metadataTexts![3]])
        #expect(part.eventCredentials == [1: ["k": CredentialValue("own")]])
        #expect(part.credentials == batch.credentials)
    }

    @Test func mergedResultsAreInInputOrderWithEveryIndexMappedBack() {
        func result(_ index: Int?, _ text: String) -> EventResult {
            EventResult(inputIndex: index, outcome: .output(Array(text.utf8)), metadata: [])
        }
        // Inputs 0, 2, 3 ran live (input 2 split in two); 1 and 4 ran the candidate, whose
        // transformBatch also returned an output that matches no input.
        let live = BatchResult(results: [result(0, "a"), result(1, "c1"), result(1, "c2"), result(2, "d")],
                               logs: [LogLine(inputIndex: 1, messageId: "m2", text: "live log")])
        let candidate = BatchResult(results: [result(1, "e"), result(0, "b"), result(nil, "extra")],
                                    logs: [LogLine(inputIndex: 0, messageId: "m1", text: "candidate log")])
        let merged = RolloutSplit.merge([([0, 2, 3], live), ([1, 4], candidate)], count: 5)
        let texts = merged.results.map { result -> String in
            guard case .output(let json) = result.outcome else { return "?" }
            return String(decoding: json, as: UTF8.self)
        }
        #expect(texts == ["a", "b", "c1", "c2", "d", "e", "extra"])
        #expect(merged.results.map(\.inputIndex) == [0, 1, 2, 2, 3, 4, nil])
        #expect(merged.logs.map(\.inputIndex) == [2, 1])
    }
}
