// The editor: a textarea for typing over a highlighted copy of its text, with line numbers and
// error markers at a line (and column). The textarea's own text is transparent; the copy behind
// it is coloured by highlight.js and scrolls with it.

import { highlightLines } from "./highlight.js";

export class Editor {
  constructor(container) {
    this.container = container;
    this.language = "javascript";
    this.markers = new Map();
    this.gutter = document.createElement("div");
    this.gutter.className = "gutter";
    this.gutter.setAttribute("aria-hidden", "true");
    const area = document.createElement("div");
    area.className = "code-area";
    this.highlight = document.createElement("pre");
    this.highlight.className = "highlight";
    this.highlight.setAttribute("aria-hidden", "true");
    this.textarea = document.createElement("textarea");
    this.textarea.className = "code-input";
    this.textarea.spellcheck = false;
    this.textarea.setAttribute("autocapitalize", "off");
    this.textarea.setAttribute("autocomplete", "off");
    this.textarea.setAttribute("aria-label", "transformation code");
    this.textarea.wrap = "off";
    area.append(this.highlight, this.textarea);
    container.append(this.gutter, area);
    this.textarea.addEventListener("input", () => { this.clearMarkers(); this.render(); });
    this.textarea.addEventListener("scroll", () => this.syncScroll());
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Tab" && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        const { selectionStart, selectionEnd, value } = this.textarea;
        this.textarea.value = value.slice(0, selectionStart) + "  " + value.slice(selectionEnd);
        this.textarea.selectionStart = this.textarea.selectionEnd = selectionStart + 2;
        this.render();
      }
    });
    this.render();
  }

  get value() { return this.textarea.value; }

  set value(text) {
    this.textarea.value = text;
    this.clearMarkers();
    this.render();
  }

  setLanguage(language) {
    this.language = language;
    this.render();
  }

  setReadOnly(readOnly) { this.textarea.readOnly = readOnly; }

  /** Marks `line` (1-based) with `message`; `kind` is "error" (default) or "warning". */
  mark(line, column, message, kind = "error") {
    if (!Number.isInteger(line) || line < 1) return;
    this.markers.set(line, { column, message, kind });
    this.render();
  }

  clearMarkers() {
    if (this.markers.size === 0) return;
    this.markers.clear();
  }

  render() {
    const lines = highlightLines(this.textarea.value, this.language);
    const gutter = [];
    const body = [];
    lines.forEach((html, index) => {
      const number = index + 1;
      const marker = this.markers.get(number);
      const classes = marker ? ` marked ${marker.kind}` : "";
      const title = marker ? ` title="${escapeAttribute(`${number}${marker.column ? ":" + marker.column : ""} ${marker.message}`)}"` : "";
      gutter.push(`<div class="line-number${classes}" data-line="${number}"${title}>${number}</div>`);
      body.push(`<span class="line${classes}" data-line="${number}">${html || " "}</span>`);
    });
    this.gutter.innerHTML = gutter.join("");
    this.highlight.innerHTML = body.join("\n") + "\n";
    this.syncScroll();
  }

  syncScroll() {
    this.highlight.scrollTop = this.textarea.scrollTop;
    this.highlight.scrollLeft = this.textarea.scrollLeft;
    this.gutter.scrollTop = this.textarea.scrollTop;
  }

  /** Scrolls `line` into view (a few lines below the top), without moving the caret. */
  scrollToLine(line) {
    const lineHeight = parseFloat(getComputedStyle(this.textarea).lineHeight) || 18;
    this.textarea.scrollTop = Math.max(0, (line - 3) * lineHeight);
    this.syncScroll();
  }

  /** Puts the caret at `line` and scrolls it into view. */
  reveal(line) {
    const lines = this.textarea.value.split("\n");
    let offset = 0;
    for (let index = 0; index < Math.min(line - 1, lines.length); index++) offset += lines[index].length + 1;
    this.textarea.focus();
    this.textarea.setSelectionRange(offset, offset);
    this.scrollToLine(line);
  }
}

function escapeAttribute(text) {
  return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
