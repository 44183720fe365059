# order-to-products-py: split each `Order Completed` track event into one `Product Purchased`
# event per product (the Python twin of order-to-products; same output for the same input).
#
# - Each output is a copy of the order event with `event: "Product Purchased"`, `messageId`
#   "<order messageId>-<n>" (n = 0, 1, ... over the products that are kept, so ids are
#   consecutive) and `properties` = the product's own fields plus the order's `orderId` and
#   `currency` (the order's values win over a product's). Other order-level properties (revenue,
#   tax, shipping, coupon...) are not copied: they belong to the order, not to each item.
# - A product that is not an object is skipped (and logged). An order with no products (missing,
#   not a list, empty, or only invalid entries) is dropped: it has nothing to report.
# - An order event without a string messageId gives outputs without messageId rather than
#   invented ids; they all carry the order's metadata either way.
# - Every other event passes through unchanged.
#
# Key order matches the JavaScript twin's `{ ...event, event: ..., properties }`: a shallow copy
# keeps every key where it was (a new key goes last), which is what dict(event) then item
# assignment does too.

ORDER_EVENT = "Order Completed"
PRODUCT_EVENT = "Product Purchased"
COPIED_FROM_ORDER = ("orderId", "currency")


def _message_id(event):
    message_id = event.get("messageId")
    return message_id if isinstance(message_id, str) else "(no messageId)"


def transformEvent(event, metadata):
    if event.get("type") != "track" or event.get("event") != ORDER_EVENT:
        return event
    order = event.get("properties")
    if not isinstance(order, dict):
        order = {}
    products = order.get("products")
    if not isinstance(products, list):
        products = []

    outputs = []
    for index, product in enumerate(products):
        if not isinstance(product, dict):
            log(f"order-to-products: {_message_id(event)}: products[{index}] is not an object, skipped")
            continue
        properties = dict(product)
        for key in COPIED_FROM_ORDER:
            if key in order:
                properties[key] = order[key]
        output = dict(event)
        output["event"] = PRODUCT_EVENT
        output["properties"] = properties
        if isinstance(event.get("messageId"), str):
            output["messageId"] = f"{event['messageId']}-{len(outputs)}"
        else:
            output.pop("messageId", None)
        outputs.append(output)

    if not outputs:
        log(f"order-to-products: {_message_id(event)}: order without products, dropped")
        return None
    plural = "" if len(outputs) == 1 else "s"
    log(f"order-to-products: {_message_id(event)}: split into {len(outputs)} {PRODUCT_EVENT} event{plural}")
    return outputs
