// fetch-enrichment: look the user up in a CRM API and add the account's plan and tier to
// `context.traits.crm`. The API key comes from getCredential("crmApiKey").
//
// - Events without a string userId pass through untouched (nothing to look up).
// - 404: the user is not in the CRM; the event passes with `crm: null`.
// - Any other failure (status >= 400, or the request itself failing): the event passes with
//   `crm: {"error": "<reason>"}` so the destination still gets it.
const CRM = "https://crm.example.com/v1/users/";

export async function transformEvent(event, metadata) {
  if (typeof event.userId !== "string" || event.userId === "") return event;
  const traits = (event.context ??= {}).traits ??= {};
  let response;
  try {
    response = await fetchV2(CRM + encodeURIComponent(event.userId), {
      headers: { authorization: `Bearer ${getCredential("crmApiKey") ?? ""}` },
    });
  } catch (error) {
    traits.crm = { error: "request failed" };
    log(`fetch-enrichment: ${event.userId}: request failed`);
    return event;
  }
  if (response.status === 404) {
    traits.crm = null;
  } else if (response.status >= 400) {
    traits.crm = { error: `status ${response.status}` };
  } else {
    const body = response.body ?? {};
    traits.crm = { plan: body.plan ?? null, tier: body.tier ?? null };
  }
  log(`fetch-enrichment: ${event.userId}: ${response.status}`);
  return event;
}
