export function transformBatch(events) { return [{count: events.length, messageId: 'a'}]; }
