export function transformBatch(events) { return [...events, {messageId: 'new', made: true}]; }
