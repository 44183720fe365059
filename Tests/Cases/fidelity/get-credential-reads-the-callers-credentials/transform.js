export function transformEvent(e) { return { key: getCredential('apiKey'), missing: getCredential('nope') ?? 'undefined', notString: getCredential(5) ?? 'undefined' }; }
