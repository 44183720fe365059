// The page's one way to build DOM nodes: attributes set one by one (never HTML text), `on…`
// attributes as listeners, children as nodes or text (null and undefined left out).

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The status line, and JSON shown in full or compactly.
export function setStatus(text, kind = "") {
  const status = document.querySelector("#status");
  status.textContent = text;
  status.className = `status ${kind}`;
}

export function json(value) {
  return JSON.stringify(value, null, 2);
}

export function short(value) {
  const text = value === undefined ? "—" : JSON.stringify(value);
  return text.length > 160 ? text.slice(0, 157) + "…" : text;
}
