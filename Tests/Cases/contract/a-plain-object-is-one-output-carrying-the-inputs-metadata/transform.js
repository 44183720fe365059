export function transformEvent(event, metadata) { event.seen = metadata(event).sourceId; return event; }
