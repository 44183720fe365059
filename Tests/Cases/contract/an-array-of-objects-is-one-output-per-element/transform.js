export function transformEvent(event) { return [{i: 1, id: event.messageId}, {i: 2, id: event.messageId}]; }
