export function transformEvent(e) { return { keep: 1, u: undefined, f() {}, list: [undefined, () => 1, 2] }; }
