let resolveLater;
export async function transformEvent(event) {
  if (event.n === 1) return new Promise((resolve) => { resolveLater = resolve; });
  if (resolveLater) resolveLater({ stale: true });
  await null;
  return event;
}
