# lib-pii-examples-py: runs the pii library on example calls, so that its behaviour is pinned by
# snapshot cases (the Python twin of lib-pii-examples, with the same cases). Each input is
# {"messageId", "call", "args": [...]}, "call" naming the JavaScript function; the output is the
# input with "result" set to what the library function returned.
import copy

from pii import luhn_valid, mask_email, mask_phone, mask_card, find_pii, mask_text, mask_deep

FUNCTIONS = {
    "luhnValid": luhn_valid, "maskEmail": mask_email, "maskPhone": mask_phone, "maskCard": mask_card,
    "findPii": find_pii, "maskText": mask_text, "maskDeep": mask_deep,
}


def transformEvent(event, metadata):
    call = event.get("call")
    fn = FUNCTIONS.get(call) if isinstance(call, str) else None
    if fn is None:
        event["error"] = "unknown function"
        return event
    args = event.get("args")
    # mask_deep changes dicts and lists in place: give it a copy so that "args" still shows the input.
    call_args = copy.deepcopy(args) if isinstance(args, list) else []
    event["result"] = fn(*call_args)
    return event
