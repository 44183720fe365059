// order-to-products: split each `Order Completed` track event into one `Product Purchased`
// event per product, for destinations that count items rather than orders.
//
// - Each output is a copy of the order event with `event: "Product Purchased"`, `messageId`
//   "<order messageId>-<n>" (n = 0, 1, … over the products that are kept, so ids are consecutive)
//   and `properties` = the product's own fields plus the order's `orderId` and `currency` (the
//   order's values win over a product's). Other order-level properties (revenue, tax, shipping,
//   coupon…) are not copied: they belong to the order, not to each item.
// - A product that is not an object is skipped (and logged). An order with no products (missing,
//   not a list, empty, or only invalid entries) is dropped: it has nothing to report.
// - An order event without a string messageId gives outputs without messageId rather than
//   invented ids; they all carry the order's metadata either way.
// - Every other event passes through unchanged.

const ORDER_EVENT = "Order Completed";
const PRODUCT_EVENT = "Product Purchased";
const COPIED_FROM_ORDER = ["orderId", "currency"];

const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const messageIdOf = (event) => (typeof event.messageId === "string" ? event.messageId : "(no messageId)");

export function transformEvent(event, metadata) {
  if (event.type !== "track" || event.event !== ORDER_EVENT) return event;
  const order = isPlainObject(event.properties) ? event.properties : {};
  const products = Array.isArray(order.products) ? order.products : [];

  const outputs = [];
  products.forEach((product, index) => {
    if (!isPlainObject(product)) {
      log(`order-to-products: ${messageIdOf(event)}: products[${index}] is not an object, skipped`);
      return;
    }
    const properties = { ...product };
    for (const key of COPIED_FROM_ORDER) if (has(order, key)) properties[key] = order[key];
    const output = { ...event, event: PRODUCT_EVENT, properties };
    if (typeof event.messageId === "string") output.messageId = `${event.messageId}-${outputs.length}`;
    else delete output.messageId;
    outputs.push(output);
  });

  if (outputs.length === 0) {
    log(`order-to-products: ${messageIdOf(event)}: order without products, dropped`);
    return null;
  }
  log(`order-to-products: ${messageIdOf(event)}: split into ${outputs.length} ${PRODUCT_EVENT} event${outputs.length === 1 ? "" : "s"}`);
  return outputs;
}
