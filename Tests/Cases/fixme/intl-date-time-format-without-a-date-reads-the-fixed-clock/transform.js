// docs/testing.md, "Determinism": Intl.DateTimeFormat().format() without a date reads the
// engine's clock directly, not the fixed clock of test runs (2026-01-01T00:00:00Z).
export function transformEvent(event) {
  return { today: new Intl.DateTimeFormat("en-US", { timeZone: "UTC" }).format() };
}
