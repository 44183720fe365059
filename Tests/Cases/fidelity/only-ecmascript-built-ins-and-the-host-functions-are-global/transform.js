export function transformEvent(e) { return { names: Object.getOwnPropertyNames(globalThis).filter(n => !/^[A-Z]/.test(n) || n === 'WebAssembly').sort() }; }
