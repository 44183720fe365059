// legacy-geo-filter: rudder-transformer's legacy convention (codeVersion "0"). A classic script
// with a global transform(events), called once with every event of the batch; metadata(event)
// is a global. Keeps track events only, stamps each with its source id and, when the event
// carries context.ip, its location from geolocation(ip) (or the lookup's error message).
async function transform(events) {
  const tracked = events.filter((event) => event.type === "track");
  for (const event of tracked) {
    event.sourceId = metadata(event).sourceId;
    const ip = event.context && event.context.ip;
    if (!ip) continue;
    try {
      event.context.geo = await geolocation(ip);
    } catch (error) {
      event.context.geo = { error: error.message };
    }
  }
  return tracked;
}
