export function transformBatch(events) { for (;;) {} }
