export function transformBatch(events, metadata) { return events.filter(e => e.n !== 2).map(e => ({...e, src: metadata(e).sourceId})); }
