import SluiceCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct JSONStringTests {
    @Test(arguments: ["", "plain", "quote \" backslash \\", "tab\tnew\nline\r", "\u{1}\u{1f}\u{7f}", "é 日本 🎉"])
    func roundTrips(_ text: String) {
        #expect(JSONString.decode(Array(JSONString.encode(text).utf8)) == text)
    }

    @Test func encodesControlCharactersAsEscapes() {
        #expect(JSONString.encode("a\u{1}b\"c\\") == #""a\u0001b\"c\\""#)
    }

    @Test func decodesSurrogatePairsAndLoneSurrogates() {
        #expect(JSONString.decode(Array(#""\ud83c\udf89""#.utf8)) == "🎉")
        #expect(JSONString.decode(Array(#""\ud800x""#.utf8)) == "\u{FFFD}x")
    }

    @Test func rejectsWhatIsNotAStringLiteral() {
        #expect(JSONString.decode(Array("abc".utf8)) == nil)
        #expect(JSONString.decode(Array(#""bad \q escape""#.utf8)) == nil)
        #expect(JSONString.decode(Array(#""\u12""#.utf8)) == nil)
    }
}

@Suite struct LimitsTests {
    @Test func defaultsAreRudderStacks() {
        #expect(Limits.defaults == Limits(timeMilliseconds: 4000, memoryMegabytes: 128))
        #expect(Limits.defaults.timeLimitMessage == "time limit of 4000 ms exceeded")
        #expect(Limits.defaults.memoryLimitMessage == "memory limit of 128 MB exceeded")
    }

    @Test func validationNamesTheField() {
        #expect(Limits(timeMilliseconds: 0).validationError() == "time limit must be at least 1 ms (got 0)")
        #expect(Limits(memoryMegabytes: -1).validationError() == "memory limit must be at least 1 MB (got -1)")
        #expect(Limits.defaults.validationError() == nil)
    }
}

@Suite struct LanguageTests {
    @Test func namesUsedByRudderStackAndSluice() {
        #expect(Language(name: "javascript") == .javascript)
        #expect(Language(name: "pythonfaas") == .python)
        #expect(Language(name: "Python") == .python)
        #expect(Language(name: "ruby") == nil)
        #expect(Language(fileName: "t.mjs") == .javascript)
        #expect(Language(fileName: "t.py") == .python)
        #expect(Language(fileName: "t.txt") == nil)
    }

    @Test func failureKindsHaveStableNames() {
        #expect([FailureKind.exception, .invalidResult, .timeLimit, .memoryLimit, .invalidInput, .unserializableResult, .compile, .engine]
            .map(\.name) == ["exception", "invalid_result", "time_limit", "memory_limit", "invalid_input", "unserializable_result", "compile", "engine"])
        #expect(FailureKind.named("time_limit") == .timeLimit)
        #expect(FailureKind.timeLimit.isLimit && FailureKind.memoryLimit.isLimit && !FailureKind.exception.isLimit)
    }
}

@Suite struct ContinuousIntegrationVariable {
    @Test func setNotEmptyAndNotFalse() {
        #expect(ContinuousIntegration.isSet(in: ["CI": "true"]))
        #expect(ContinuousIntegration.isSet(in: ["CI": "1"]))
        #expect(ContinuousIntegration.isSet(in: ["CI": "woodpecker"]))
        #expect(!ContinuousIntegration.isSet(in: [:]))
        #expect(!ContinuousIntegration.isSet(in: ["CI": ""]))
        #expect(!ContinuousIntegration.isSet(in: ["CI": "false"]))
        #expect(!ContinuousIntegration.isSet(in: ["CI": "FALSE"]))
        #expect(!ContinuousIntegration.isSet(in: ["CI": "0"]))
        #expect(!ContinuousIntegration.isSet(in: ["CI": " False\n"]) && !ContinuousIntegration.isSet(in: ["CI": "  "]))
        #expect(ContinuousIntegration.isSet(in: [" CI": "true"]) == false, "only the CI variable")
    }
}

@Suite struct PhaseClockTests {
    @Test func eachPhaseGetsTheTimeSinceTheLastMarkAndRepeatsAddUp() {
        var clock = PhaseClock(enabled: true)
        usleep(2_000)
        clock.end("first")
        clock.end("second")
        usleep(2_000)
        clock.end("first")
        #expect(clock.phases.map(\.name) == ["first", "second"])
        #expect(clock.phases[0].nanoseconds >= 4_000_000)
        var off = PhaseClock(enabled: false)
        off.end("first")
        #expect(off.phases.isEmpty)
    }
}
