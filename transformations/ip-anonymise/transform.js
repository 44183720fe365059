// ip-anonymise: anonymises the IP addresses in context.ip and request_ip and drops the precise
// location.
// - IPv4: the last octet is zeroed (203.0.113.7 → 203.0.113.0).
// - IPv6: the last 80 bits are zeroed, keeping the /48 (2001:db8:85a3::8a2e:370:7334 →
//   2001:db8:85a3::), written in the RFC 5952 form; an IPv4-mapped address (::ffff:203.0.113.7) is
//   treated as its IPv4 address (::ffff:203.0.113.0).
// - A comma-separated list (X-Forwarded-For) has each address anonymised.
// - A value that is not an IP address (or a list of them) is removed, and logged; null and "" stay.
// - context.location.latitude and .longitude are deleted.
// - With a "salt" credential, context.ipHash is the SHA-256 of "<salt>:<address>", the address
//   being the first one of context.ip (else of request_ip) in its canonical form, before
//   anonymisation, so that the same visitor can still be counted without keeping the address.
import { sha256Hex } from "hashing";

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const IPV4 = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

// [a, b, c, d] or null.
function parseIPv4(text) {
  const match = IPV4.exec(text);
  if (!match) return null;
  const octets = match.slice(1, 5).map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

// Groups of a list of ":"-separated parts, the last of which may be a dotted IPv4 address; or null.
function groupsOf(parts, allowIPv4Tail) {
  const groups = [];
  for (let i = 0; i < parts.length; i++) {
    if (allowIPv4Tail && i === parts.length - 1 && parts[i].includes(".")) {
      const v4 = parseIPv4(parts[i]);
      if (!v4) return null;
      groups.push(v4[0] * 256 + v4[1], v4[2] * 256 + v4[3]);
    } else if (HEX_GROUP.test(parts[i])) {
      groups.push(parseInt(parts[i], 16));
    } else {
      return null;
    }
  }
  return groups;
}

// The 8 groups of an IPv6 address, or null.
function parseIPv6(text) {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  if (halves.length === 1) {
    const groups = groupsOf(text.split(":"), true);
    return groups && groups.length === 8 ? groups : null;
  }
  const head = halves[0] === "" ? [] : groupsOf(halves[0].split(":"), false);
  const tail = halves[1] === "" ? [] : groupsOf(halves[1].split(":"), true);
  if (!head || !tail || head.length + tail.length > 7) return null;
  return [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
}

function isMapped(groups) {
  return groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
}

// RFC 5952: lowercase, no leading zeros, the longest run (2+) of zero groups as "::", the first
// such run on a tie; IPv4-mapped addresses end in dotted form.
function formatIPv6(groups) {
  if (isMapped(groups)) {
    return `::ffff:${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
  }
  let bestStart = -1, bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return hex.slice(0, bestStart).join(":") + "::" + hex.slice(bestStart + bestLength).join(":");
}

// {canonical, anonymised} for one address, or null.
function anonymiseOne(text) {
  const v4 = parseIPv4(text);
  if (v4) return { canonical: v4.join("."), anonymised: `${v4[0]}.${v4[1]}.${v4[2]}.0` };
  const v6 = parseIPv6(text);
  if (!v6) return null;
  const kept = isMapped(v6) ? [...v6.slice(0, 7), v6[7] & 0xff00] : [...v6.slice(0, 3), 0, 0, 0, 0, 0];
  return { canonical: formatIPv6(v6), anonymised: formatIPv6(kept) };
}

function trim(text) {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

// Anonymises container[key] in place. Returns the canonical form of its first address (for the
// hash), or null when there is none.
function anonymiseField(container, key, label, id) {
  if (!(key in container)) return null;
  const value = container[key];
  if (value === null || (typeof value === "string" && trim(value) === "")) return null;
  const results = typeof value === "string" ? value.split(",").map((part) => anonymiseOne(trim(part))) : [null];
  if (results.some((result) => result === null)) {
    delete container[key];
    log(`removed ${label} of ${id}: not an IP address`);
    return null;
  }
  container[key] = results.map((result) => result.anonymised).join(", ");
  return results[0].canonical;
}

export function transformEvent(event, metadata) {
  const id = typeof event.messageId === "string" ? event.messageId : "(no messageId)";
  const context = isObject(event.context) ? event.context : null;
  const contextIp = context ? anonymiseField(context, "ip", "context.ip", id) : null;
  const requestIp = anonymiseField(event, "request_ip", "request_ip", id);
  if (context && isObject(context.location)) {
    delete context.location.latitude;
    delete context.location.longitude;
  }
  const salt = getCredential("salt");
  const original = contextIp !== null ? contextIp : requestIp;
  if (typeof salt === "string" && salt !== "" && original !== null) {
    if (event.context === undefined || event.context === null) event.context = {};
    if (isObject(event.context)) event.context.ipHash = sha256Hex(`${salt}:${original}`);
  }
  return event;
}
