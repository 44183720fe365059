import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// Builds the single UTF-16 text a batch's items travel in (see ``DriverSource``).
///
/// JavaScriptCore's C API takes strings as UTF-8 (which it decodes slowly, in three passes) or
/// UTF-16 (which it copies). Transcoding here, with a fast path for ASCII, is several times
/// cheaper than `JSStringCreateWithUTF8CString`, and it validates each item's UTF-8 on the way,
/// so an invalid item fails alone instead of voiding the whole string.
enum InputText {
    /// `[item0,N,item1,N,…]` with N the decimal `nonce`. Items that cannot travel (empty, NUL
    /// bytes, invalid UTF-8) are sent as `null` and failed in `early`. `longDigitRuns` receives
    /// the index of every item with a run of ``LongIntegers/minimumDigits`` ASCII digits or more
    /// (the only items that can hold an integer a JavaScript number cannot represent exactly).
    static func joined(
        _ items: [JSONText], nonce: UInt64, early: inout [Int: Failure], longDigitRuns: inout [Int], into text: inout [UInt16]
    ) {
        let separator = Array(",\(nonce)".utf16)
        text.removeAll(keepingCapacity: true)
        text.reserveCapacity(items.reduce(2) { $0 + $1.count + separator.count + 1 })
        text.append(0x5B)
        for (index, item) in items.enumerated() {
            if index > 0 { text.append(0x2C) }
            if append(item, index: index, to: &text, early: &early) { longDigitRuns.append(index) }
            text.append(contentsOf: separator)
        }
        text.append(0x5D)
    }

    /// The items joined with U+001E, for parsing one by one.
    static func separated(_ items: [JSONText], early: inout [Int: Failure], into text: inout [UInt16]) {
        text.removeAll(keepingCapacity: true)
        text.reserveCapacity(items.reduce(1) { $0 + $1.count + 1 })
        for (index, item) in items.enumerated() {
            if index > 0 { text.append(0x1E) }
            if containsByte(item, 0x1E) {
                early[index] = Failure(.invalidInput, "invalid JSON: control character U+001E in input")
                text.append(contentsOf: "null".utf16)
            } else {
                append(item, index: index, to: &text, early: &early)
            }
        }
    }

    /// Appends one item; true when it has a long run of digits.
    @discardableResult
    private static func append(_ item: JSONText, index: Int, to text: inout [UInt16], early: inout [Int: Failure]) -> Bool {
        var longDigitRun = false
        if item.isEmpty {
            early[index] = Failure(.invalidInput, "invalid JSON: empty input")
        } else if containsByte(item, 0) {
            early[index] = Failure(.invalidInput, "invalid JSON: NUL byte in input")
        } else if transcode(item, to: &text, longDigitRun: &longDigitRun) {
            return longDigitRun
        } else {
            early[index] = Failure(.invalidInput, "invalid JSON: the text is not valid UTF-8")
        }
        text.append(contentsOf: "null".utf16)
        return false
    }

    /// Appends `bytes` decoded from UTF-8 as UTF-16; false (and nothing appended) when the
    /// bytes are not valid UTF-8.
    static func transcode(_ bytes: JSONText, to text: inout [UInt16]) -> Bool {
        var longDigitRun = false
        return transcode(bytes, to: &text, longDigitRun: &longDigitRun)
    }

    /// ``transcode(_:to:)``, also telling whether the bytes hold a run of at least
    /// ``LongIntegers/minimumDigits`` ASCII digits.
    ///
    /// ASCII (nearly every event) is found eight bytes at a time and widened a whole run at a
    /// time, in a loop the compiler vectorises. Digits cost one more check per word: a run of
    /// sixteen digits always covers one whole word of eight digits, so only a word that is all
    /// digits makes the transcoder measure the run around it.
    static func transcode(_ bytes: JSONText, to text: inout [UInt16], longDigitRun: inout Bool) -> Bool {
        let minimumDigits = LongIntegers.minimumDigits
        let start = text.count
        // Worst case one UTF-16 unit per byte; write through a pointer, then trim.
        text.append(contentsOf: repeatElement(0, count: bytes.count))
        let written = bytes.withUnsafeBufferPointer { input -> Int? in
            text.withUnsafeMutableBufferPointer { output -> Int? in
                let count = input.count
                guard count > 0, let source = input.baseAddress, let target = output.baseAddress else { return start }
                var out = start
                var index = 0
                var longRun = false
                defer { if longRun { longDigitRun = true } }
                while index < count {
                    // An ASCII run. Each of its words lies on the run's grid of eight bytes, so a run
                    // of sixteen digits inside it covers at least one word of the grid whole.
                    let runStart = index
                    while index &+ 8 <= count {
                        let word = UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self)
                        if word & 0x8080_8080_8080_8080 != 0 { break }
                        // (byte ^ 0x30) + 0x76 reaches 0x80 exactly when an ASCII byte is not '0'…'9'
                        // (no carries): zero for a word of eight digits.
                        if ((word ^ 0x3030_3030_3030_3030) &+ 0x7676_7676_7676_7676) & 0x8080_8080_8080_8080 == 0 && !longRun {
                            longRun = digitRun(source, around: index, count: count) >= minimumDigits
                        }
                        index &+= 8
                    }
                    while index < count, source[index] < 0x80 { index &+= 1 }
                    let run = index &- runStart
                    widen(source + runStart, into: target + out, count: run)
                    out &+= run
                    guard index < count else { break }
                    // One multi-byte sequence.
                    let byte = source[index]
                    var scalar: UInt32
                    let length: Int
                    if byte & 0xE0 == 0xC0 { scalar = UInt32(byte & 0x1F); length = 2 }
                    else if byte & 0xF0 == 0xE0 { scalar = UInt32(byte & 0x0F); length = 3 }
                    else if byte & 0xF8 == 0xF0 { scalar = UInt32(byte & 0x07); length = 4 }
                    else { return nil }
                    guard index + length <= count else { return nil }
                    for offset in 1..<length {
                        let continuation = source[index + offset]
                        guard continuation & 0xC0 == 0x80 else { return nil }
                        scalar = scalar << 6 | UInt32(continuation & 0x3F)
                    }
                    // Reject overlong forms, surrogates and values past U+10FFFF.
                    let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
                    guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return nil }
                    if scalar >= 0x10000 {
                        let value = scalar - 0x10000
                        target[out] = UInt16(0xD800 + (value >> 10))
                        target[out + 1] = UInt16(0xDC00 + (value & 0x3FF))
                        out += 2
                    } else {
                        target[out] = UInt16(scalar)
                        out += 1
                    }
                    index += length
                }
                return out
            }
        }
        guard let written else {
            text.removeSubrange(start...)
            return false
        }
        text.removeSubrange(written...)
        return true
    }

    /// How many ASCII digits are in a row around the eight digits at `index`, counting on past
    /// them only up to ``LongIntegers/minimumDigits``.
    private static func digitRun(_ source: UnsafePointer<UInt8>, around index: Int, count: Int) -> Int {
        var low = index, high = index &+ 8
        while low > 0 && source[low &- 1] &- 0x30 < 10 { low &-= 1 }
        while high < count && source[high] &- 0x30 < 10 && high &- low < LongIntegers.minimumDigits { high &+= 1 }
        return high &- low
    }

    /// ASCII bytes as UTF-16 units: a plain loop, which the compiler turns into vector code.
    @inline(__always)
    private static func widen(_ source: UnsafePointer<UInt8>, into target: UnsafeMutablePointer<UInt16>, count: Int) {
        for offset in 0..<count { target[offset] = UInt16(truncatingIfNeeded: source[offset]) }
    }
}

/// Converts UTF-16 from JavaScriptCore to UTF-8, with a fast path for ASCII. Lone surrogates
/// (which `JSON.stringify` escapes, so they only reach here in messages) become U+FFFD.
enum OutputText {
    /// The UTF-8 bytes of `input`.
    static func bytes(_ input: UnsafeBufferPointer<UInt16>) -> [UInt8] {
        // ASCII (the usual case): one byte per unit, written straight into the result; the OR of
        // all units tells afterwards whether that was right.
        var seen: UInt16 = 0
        let narrow = [UInt8](unsafeUninitializedCapacity: input.count) { buffer, initialized in
            for index in 0..<input.count {
                let unit = input[index]
                seen |= unit
                buffer[index] = UInt8(truncatingIfNeeded: unit)
            }
            initialized = input.count
        }
        if seen < 0x80 { return narrow }
        var output: [UInt8] = []
        let count = transcode(input, into: &output)
        output.removeSubrange(count...)
        return output
    }

    static func transcode(_ input: UnsafeBufferPointer<UInt16>, into output: inout [UInt8]) -> Int {
        let needed = input.count * 3
        if output.count < needed { output = [UInt8](repeating: 0, count: needed) }
        return output.withUnsafeMutableBufferPointer { out -> Int in
            var written = 0
            var index = 0
            let count = input.count
            while index < count {
                let unit = input[index]
                if unit < 0x80 {
                    out[written] = UInt8(truncatingIfNeeded: unit)
                    written += 1
                    index += 1
                } else if unit < 0x800 {
                    out[written] = UInt8(0xC0 | (unit >> 6))
                    out[written + 1] = UInt8(0x80 | (unit & 0x3F))
                    written += 2
                    index += 1
                } else if unit >= 0xD800 && unit <= 0xDBFF, index + 1 < count, input[index + 1] >= 0xDC00, input[index + 1] <= 0xDFFF {
                    let scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(input[index + 1]) - 0xDC00)
                    out[written] = UInt8(0xF0 | (scalar >> 18))
                    out[written + 1] = UInt8(0x80 | ((scalar >> 12) & 0x3F))
                    out[written + 2] = UInt8(0x80 | ((scalar >> 6) & 0x3F))
                    out[written + 3] = UInt8(0x80 | (scalar & 0x3F))
                    written += 4
                    index += 2
                } else {
                    let value: UInt16 = (unit >= 0xD800 && unit <= 0xDFFF) ? 0xFFFD : unit
                    out[written] = UInt8(0xE0 | (value >> 12))
                    out[written + 1] = UInt8(0x80 | ((value >> 6) & 0x3F))
                    out[written + 2] = UInt8(0x80 | (value & 0x3F))
                    written += 3
                    index += 1
                }
            }
            return written
        }
    }
}
