/// Code from rudder-transformer's own tests, shared by the tests that run it in the engine and
/// over HTTP.
public enum RudderSamples {
    /// The legacy (`codeVersion` "0") transformation of rudder-transformer's "Filtering User
    /// Transformations Test": keeps track events, stamped with their metadata's sourceId.
    public static let legacyFilter = """
        function transform(events) {
          let filteredEvents = events.filter(event => {
            const eventType = event.type;
            return eventType && eventType.match(/track/g);
          });
          filteredEvents = filteredEvents.map(event => {
            const eventMetadata = metadata(event);
            event.sourceId = eventMetadata.sourceId;
            return event;
          })
          return filteredEvents;
        }
        """
}
