// lib-consent-examples: runs the functions of libraries/consent.js on example arguments, so the library's
// behaviour is pinned by snapshot cases (libraries/consent.py is pinned by lib-consent-examples-py on the
// same inputs, with the same expected output).
// Each input event is {"messageId", "fn", "args"}; see libraries/examples.js for the output.
import { normaliseCategory, categoryPreferences, deniedConsentIds, hasConsentInfo, deniedCategories, isDenied } from "consent";
import { runExample } from "examples";

const FUNCTIONS = { normaliseCategory, categoryPreferences, deniedConsentIds, hasConsentInfo, deniedCategories, isDenied };

export function transformEvent(event, metadata) {
  return runExample(FUNCTIONS, event);
}
