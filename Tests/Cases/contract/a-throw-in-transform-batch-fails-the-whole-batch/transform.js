export function transformBatch(events) { throw new RangeError('too many'); }
