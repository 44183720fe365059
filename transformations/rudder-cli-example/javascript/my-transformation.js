import { addTag } from "myLibrary";
export function transformEvent(event, metadata) {
  if (event.event === "drop me") return null;
  return addTag(event, "cliManaged", true);
}
