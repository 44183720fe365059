export function transformEvent(event, metadata) { return {event, meta: metadata(event)}; }
