log('loading');
export function transformBatch(events) { log('batch of', events.length); return events; }
