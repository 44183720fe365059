import { spin } from "spin";
export function transformEvent(e) { spin(); }
