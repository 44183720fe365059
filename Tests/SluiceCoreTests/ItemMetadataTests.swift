import SluiceCore
import Testing

@Suite struct ItemMetadataTests {
    private func metadata(_ item: String) -> String {
        String(decoding: ItemMetadata.text(of: Array(item.utf8)), as: UTF8.self)
    }

    @Test func anEnvelopesMetadataIsItsOwnTextWithoutWhitespace() {
        #expect(metadata(#"{"message":{"a":1},"metadata":{"messageId":"m1","sourceId":"s"}}"#) == #"{"messageId":"m1","sourceId":"s"}"#)
        #expect(metadata("{\n  \"message\": {\"a\": 1},\n  \"metadata\": {\"messageId\": \"m 1\",\n \"n\": [1, 2]}\n}")
            == #"{"messageId":"m 1","n":[1,2]}"#)
        // Escapes inside strings stay as they were written; a quote inside a string does not end it.
        #expect(metadata(#"{"message":{},"metadata":{"k":"a \" b\u00e9 \\"}}"#) == #"{"k":"a \" b\u00e9 \\"}"#)
    }

    @Test func aMissingOrNullMetadataIsEmptyAndAnEnvelopeNeedsOnlyEnvelopeKeys() {
        #expect(metadata(#"{"message":{"a":1}}"#) == "{}")
        #expect(metadata(#"{"message":{"a":1},"metadata":null,"destination":{}}"#) == "{}")
        // Another key makes it a bare event whose metadata is its messageId.
        #expect(metadata(#"{"message":{"a":1},"metadata":{"x":1},"messageId":"m2","other":true}"#) == #"{"messageId":"m2"}"#)
        // A message that is not an object is not an envelope either.
        #expect(metadata(#"{"message":"hi","metadata":{"x":1}}"#) == "{}")
    }

    @Test func aBareEventsMetadataIsItsStringMessageId() {
        #expect(metadata(#"{"messageId":"abc","type":"track"}"#) == #"{"messageId":"abc"}"#)
        #expect(metadata(#"{"messageId":"\u0061b"}"#) == #"{"messageId":"ab"}"#)
        #expect(metadata(#"{"messageId":42}"#) == "{}")
        #expect(metadata(#"{"type":"track"}"#) == "{}")
    }

    @Test func theLastOfARepeatedKeyCountsAsJSONParsersReadIt() {
        #expect(metadata(#"{"message":{},"metadata":{"a":1},"metadata":{"b":2}}"#) == #"{"b":2}"#)
        #expect(metadata(#"{"messageId":"first","messageId":"second"}"#) == #"{"messageId":"second"}"#)
    }

    @Test func keysWrittenWithEscapesAreTheKeysTheyDecodeTo() {
        #expect(metadata(#"{"mess\u0061ge":{"a":1},"metad\u0061ta":{"x":1}}"#) == #"{"x":1}"#)
        #expect(metadata(#"{"message\u0049d":"m3","type":"track"}"#) == #"{"messageId":"m3"}"#)
        // A key that only starts like an envelope key is another key.
        #expect(metadata(#"{"message":{"a":1},"metadatas":{"x":1},"messageId":"m4"}"#) == #"{"messageId":"m4"}"#)
    }

    @Test func anItemInvalidAnywhereHasEmptyMetadataEvenWhenItsMetadataCameFirst() {
        // The one pass validates every member, nested ones too, not only those the rules read.
        for item in [#"{"metadata":{"x":1},"message":{"a":[1,2,]}}"#, #"{"metadata":{"x":1},"message":{"a":"\q"}}"#,
                     #"{"metadata":{"x":1},"message":{"a":01}}"#, "{\"metadata\":{\"x\":1},\"message\":{\"a\":\"tab\there\"}}",
                     #"{"metadata":{"x":1} "message":{}}"#, #"{"metadata":{"x":1},"message":{}"#] {
            #expect(metadata(item) == "{}", "\(item)")
        }
    }

    @Test func invalidItemsAndNonObjectsHaveEmptyMetadata() {
        for item in ["", "nul", "[1,2]", "42", #""text""#, #"{"message":{},"metadata":{"a":1}"#, #"{"message":{},"metadata":[1]}"#] {
            #expect(metadata(item) == "{}", "\(item)")
        }
    }
}
