// The service's own Studio routes, nothing else: every request goes to this origin. A
// state-changing request carries the per-process token the session route hands the page.

let session = null;

export async function start() {
  session = await get("/studio/api/session");
  return session;
}

export async function get(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  return answer(response);
}

export async function post(path, body) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (session) headers[session.tokenHeader] = session.token;
  const response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin" });
  return answer(response);
}

/** A DELETE with the session's token (ending a shadow run or a rollout). */
export async function remove(path) {
  const headers = { Accept: "application/json" };
  if (session) headers[session.tokenHeader] = session.token;
  const response = await fetch(path, { method: "DELETE", headers, credentials: "same-origin" });
  return answer(response);
}

async function answer(response) {
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) {
    const message = body && body.error ? body.error : `${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return body;
}
