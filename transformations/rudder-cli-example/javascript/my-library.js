export function addTag(event, key, value) {
  event.context = event.context || {};
  event.context[key] = value;
  return event;
}
