// url: query-string parsing and UTM extraction, in plain JavaScript (JavaScriptCore has no URL
// global here). The Python twin is url.py; both give the same results for the same input.
//
//   import { parseQuery, utmFields } from "url";
//   parseQuery("https://shop.example/?q=red+shoes&utm_source=news")  // {q: "red shoes", utm_source: "news"}
//   utmFields("https://shop.example/?utm_source=news&utm_campaign=spring%20sale")
//     // {source: "news", name: "spring sale"}
//
// Rules (kept identical in url.py):
// - the query is the text between the first "?" and the first "#"; a "?" that only appears
//   after "#" (hash routing) is part of the fragment, as in the URL standard, so it has no query;
// - pairs are split on "&", key from value on the first "="; "+" means a space;
// - percent-escapes are decoded as UTF-8; a value that is not valid percent-encoding ("%zz",
//   "%E2%82", a lone "%") is kept exactly as written instead of failing;
// - empty keys are skipped, a key without "=" has the value "", and the first occurrence of a
//   repeated key wins;
// - anything that is not a string gives an empty result.

/** The UTM query parameters and the `context.campaign` field each one fills. */
export const UTM_FIELDS = [
  ["utm_source", "source"],
  ["utm_medium", "medium"],
  ["utm_campaign", "name"],
  ["utm_term", "term"],
  ["utm_content", "content"],
];

/** Percent-decodes one query component ("+" is a space); invalid encoding returns `text` unchanged. */
export function decodeComponent(text) {
  if (typeof text !== "string") return "";
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch (error) {
    return text;
  }
}

/** The raw query string of a URL (without "?" and the fragment), or "" when there is none. */
export function queryString(url) {
  if (typeof url !== "string") return "";
  const question = url.indexOf("?");
  if (question < 0) return "";
  const hash = url.indexOf("#");
  if (hash >= 0 && hash < question) return "";
  return url.slice(question + 1, hash >= 0 ? hash : url.length);
}

/** The query of a URL as a plain object of decoded key → decoded value (first occurrence wins). */
export function parseQuery(url) {
  const result = Object.create(null); // keys such as "__proto__" stay ordinary keys
  const query = queryString(url);
  if (query === "") return result;
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const equals = pair.indexOf("=");
    const key = decodeComponent(equals >= 0 ? pair.slice(0, equals) : pair);
    const value = equals >= 0 ? decodeComponent(pair.slice(equals + 1)) : "";
    if (key === "" || Object.prototype.hasOwnProperty.call(result, key)) continue;
    result[key] = value;
  }
  return result;
}

/** The non-empty UTM parameters of a URL as a campaign object ({source, medium, name, term, content}). */
export function utmFields(url) {
  const query = parseQuery(url);
  const campaign = {};
  for (const [parameter, field] of UTM_FIELDS) {
    const value = query[parameter];
    if (typeof value === "string" && value !== "") campaign[field] = value;
  }
  return campaign;
}
