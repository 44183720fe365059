# ip-anonymise-py: the Python twin of ip-anonymise. Anonymises the IP addresses in context.ip and
# request_ip and drops the precise location.
# - IPv4: the last octet is zeroed (203.0.113.7 -> 203.0.113.0).
# - IPv6: the last 80 bits are zeroed, keeping the /48 (2001:db8:85a3::8a2e:370:7334 ->
#   2001:db8:85a3::), written in the RFC 5952 form; an IPv4-mapped address (::ffff:203.0.113.7) is
#   treated as its IPv4 address (::ffff:203.0.113.0).
# - A comma-separated list (X-Forwarded-For) has each address anonymised.
# - A value that is not an IP address (or a list of them) is removed, and logged; null and "" stay.
# - context.location.latitude and .longitude are deleted.
# - With a "salt" credential, context.ipHash is the SHA-256 of "<salt>:<address>", the address
#   being the first one of context.ip (else of request_ip) in its canonical form, before
#   anonymisation, so that the same visitor can still be counted without keeping the address.
# The parsing is written out rather than taken from the ipaddress module so that it accepts and
# rejects exactly what the JavaScript twin does.
import re

from hashing import sha256_hex

_IPV4 = re.compile(r"(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})", re.ASCII)
_HEX_GROUP = re.compile(r"[0-9A-Fa-f]{1,4}", re.ASCII)


def parse_ipv4(text):
    """[a, b, c, d] or None."""
    match = _IPV4.fullmatch(text)
    if not match:
        return None
    octets = [int(part) for part in match.groups()]
    return octets if all(octet <= 255 for octet in octets) else None


def groups_of(parts, allow_ipv4_tail):
    """Groups of a list of ":"-separated parts, the last of which may be a dotted IPv4 address; or None."""
    groups = []
    for i, part in enumerate(parts):
        if allow_ipv4_tail and i == len(parts) - 1 and "." in part:
            v4 = parse_ipv4(part)
            if not v4:
                return None
            groups += [v4[0] * 256 + v4[1], v4[2] * 256 + v4[3]]
        elif _HEX_GROUP.fullmatch(part):
            groups.append(int(part, 16))
        else:
            return None
    return groups


def parse_ipv6(text):
    """The 8 groups of an IPv6 address, or None."""
    halves = text.split("::")
    if len(halves) > 2:
        return None
    if len(halves) == 1:
        groups = groups_of(text.split(":"), True)
        return groups if groups is not None and len(groups) == 8 else None
    head = [] if halves[0] == "" else groups_of(halves[0].split(":"), False)
    tail = [] if halves[1] == "" else groups_of(halves[1].split(":"), True)
    if head is None or tail is None or len(head) + len(tail) > 7:
        return None
    return head + [0] * (8 - len(head) - len(tail)) + tail


def is_mapped(groups):
    return all(g == 0 for g in groups[:5]) and groups[5] == 0xFFFF


def format_ipv6(groups):
    """RFC 5952: lowercase, no leading zeros, the longest run (2+) of zero groups as "::", the first
    such run on a tie; IPv4-mapped addresses end in dotted form."""
    if is_mapped(groups):
        return f"::ffff:{groups[6] >> 8}.{groups[6] & 255}.{groups[7] >> 8}.{groups[7] & 255}"
    best_start, best_length = -1, 1
    i = 0
    while i < 8:
        if groups[i] != 0:
            i += 1
            continue
        j = i
        while j < 8 and groups[j] == 0:
            j += 1
        if j - i > best_length:
            best_start, best_length = i, j - i
        i = j
    hexes = [format(g, "x") for g in groups]
    if best_start < 0:
        return ":".join(hexes)
    return ":".join(hexes[:best_start]) + "::" + ":".join(hexes[best_start + best_length:])


def anonymise_one(text):
    """{"canonical", "anonymised"} for one address, or None."""
    v4 = parse_ipv4(text)
    if v4:
        return {"canonical": ".".join(map(str, v4)), "anonymised": f"{v4[0]}.{v4[1]}.{v4[2]}.0"}
    v6 = parse_ipv6(text)
    if v6 is None:
        return None
    kept = v6[:7] + [v6[7] & 0xFF00] if is_mapped(v6) else v6[:3] + [0] * 5
    return {"canonical": format_ipv6(v6), "anonymised": format_ipv6(kept)}


def trim(text):
    return text.strip(" \t")


def anonymise_field(container, key, label, message_id):
    """Anonymises container[key] in place. Returns the canonical form of its first address (for the
    hash), or None when there is none."""
    if key not in container:
        return None
    value = container[key]
    if value is None or (isinstance(value, str) and trim(value) == ""):
        return None
    results = [anonymise_one(trim(part)) for part in value.split(",")] if isinstance(value, str) else [None]
    if any(result is None for result in results):
        del container[key]
        log(f"removed {label} of {message_id}: not an IP address")
        return None
    container[key] = ", ".join(result["anonymised"] for result in results)
    return results[0]["canonical"]


def transformEvent(event, metadata):
    message_id = event.get("messageId") if isinstance(event.get("messageId"), str) else "(no messageId)"
    context = event.get("context") if isinstance(event.get("context"), dict) else None
    context_ip = anonymise_field(context, "ip", "context.ip", message_id) if context is not None else None
    request_ip = anonymise_field(event, "request_ip", "request_ip", message_id)
    if context is not None and isinstance(context.get("location"), dict):
        context["location"].pop("latitude", None)
        context["location"].pop("longitude", None)
    salt = getCredential("salt")
    original = context_ip if context_ip is not None else request_ip
    if isinstance(salt, str) and salt != "" and original is not None:
        if event.get("context") is None:
            event["context"] = {}
        if isinstance(event["context"], dict):
            event["context"]["ipHash"] = sha256_hex(f"{salt}:{original}")
    return event
