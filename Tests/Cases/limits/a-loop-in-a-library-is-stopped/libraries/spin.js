export function spin() { for (;;) {} }
