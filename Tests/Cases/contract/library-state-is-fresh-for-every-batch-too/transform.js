import { next } from "counter";
export function transformEvent(e) { return {n: next()}; }
