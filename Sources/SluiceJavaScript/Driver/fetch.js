// ---- Fetch and geolocation ----------------------------------------------------------------
// fetch and fetchV2 answered from mocks (test runs); the real ones come with the sandbox.
let fetchMocks = null;
function mockedResponse(key) {
  const response = fetchMocks !== null ? own(fetchMocks, key) : undefined;
  if (response !== null && typeof response === "object") return response;
  noteUnanswered("GET " + key);
  return null;
}
// A request nothing could answer (no mock for it, or no fetch at all in this run: `sluice run`
// without --fetch-mocks or --allow-net), for the run's report: fetch itself only gives "ERROR".
function noteUnanswered(request) {
  unmocked = unmocked + RS + "F" + currentIndex + US + JSONstringify(request);
}
function mockBody(response) {
  const body = own(response, "body");
  return body === undefined ? null : copyJSON(body);
}
function mockFetch(url, options) {
  const response = mockedResponse(StringOf(url));
  if (response === null) return PromiseResolve("ERROR");
  const status = own(response, "status");
  const code = status === undefined ? 200 : status;
  return PromiseResolve(code >= 200 && code < 300 ? mockBody(response) : "ERROR");
}
function mockFetchV2(url, options) {
  const key = StringOf(url);
  const response = mockedResponse(key);
  if (response === null) return PromiseReject(fetchError("fetchV2: no mock for GET " + key, undefined));
  const status = own(response, "status"), headers = own(response, "headers");
  return PromiseResolve({ url: key, status: status === undefined ? 200 : status,
    headers: headers === undefined ? {} : copyJSON(headers), body: mockBody(response) });
}
// The real fetch and fetchV2: the host performs the request (in the service, through the egress
// guard; the time spent waiting counts against the call's time limit) and answers in JSON. The
// options are read from their own properties, as a copy across an isolate boundary would.
function hostRequest(url, options) {
  const settings = options === undefined || options === null ? EMPTY_METADATA : options;
  const method = own(settings, "method");
  let headers = "";
  const given = own(settings, "headers");
  if (given !== undefined && given !== null && typeof given === "object") {
    const names = ObjectKeys(given);
    for (let i = 0; i < names.length; i++) headers = headers + StringOf(names[i]) + US + StringOf(given[names[i]]) + RS;
  }
  let body = null;
  const content = own(settings, "body");
  if (content !== undefined && content !== null) body = typeof content === "string" ? content : serialize(content, undefined);
  const answer = JSONparse(hostFetch(currentIndex, StringOf(url), method === undefined ? "GET" : StringOf(method), headers, body));
  return ObjectSetPrototypeOf(answer, null);
}
function realFetch(url, options) {
  let response;
  try { response = hostRequest(url, options); } catch (e) { return PromiseResolve("ERROR"); }
  if (response.kind === "unavailable") noteUnanswered("GET " + StringOf(url));
  if (response.error !== undefined || response.status < 200 || response.status >= 300) return PromiseResolve("ERROR");
  try { return PromiseResolve(JSONparse(response.body)); } catch (e) { return PromiseResolve("ERROR"); }
}
/// What fetchV2 rejects with, as rudder-transformer: a plain object (a serialised error), so it
/// keeps its text when user code returns or logs it — `{message}`, and node-fetch's `type` for
/// network failures (`system`) and timeouts (`request-timeout`).
function fetchError(message, kind) {
  const error = { message: StringOf(message) };
  if (kind === "network") error.type = "system";
  else if (kind === "timeout") error.type = "request-timeout";
  return error;
}
function realFetchV2(url, options) {
  if (url === undefined) return PromiseReject(fetchError("fetch url is required", undefined));
  let response;
  try { response = hostRequest(url, options); } catch (e) { return PromiseReject(e); }
  if (response.error !== undefined) return PromiseReject(fetchError(response.error, response.kind));
  let body = response.body;
  try { body = JSONparse(body); } catch (e) { /* not JSON: the text */ }
  return PromiseResolve({ url: response.url, status: response.status, headers: response.headers, body });
}

// geolocation(ip), as rudder-transformer's: the host validates the address (and, in the service,
// asks the operator's geolocation URL); test runs answer from the mock keyed "/geoip/<ip>".
// Rejections are plain objects `{message}`, as rudder's serialised errors, so they keep their
// text when returned or serialised.
function geolocationFailure(message) { return PromiseReject({ message }); }
function geolocation(ip) {
  if (!ip) return geolocationFailure("ip address is required");
  let address, answer;
  try {
    address = StringOf(ip);
    answer = ObjectSetPrototypeOf(JSONparse(hostFetch(currentIndex, address, fetchMocks === null ? "GEOLOCATION" : "GEOLOCATION-CHECK", "", null)), null);
  } catch (e) {
    return PromiseReject(e);
  }
  if (answer.error !== undefined) return geolocationFailure(answer.error);
  if (fetchMocks !== null) {
    const response = mockedResponse("/geoip/" + address);
    if (response === null) return geolocationFailure("geolocation: no mock for GET /geoip/" + address);
    const status = own(response, "status");
    if (status !== undefined && status !== 200) return geolocationFailure("request to fetch geolocation failed with status code: " + status);
    return PromiseResolve(mockBody(response));
  }
  try {
    return PromiseResolve(JSONparse(answer.body));
  } catch (e) {
    return geolocationFailure("invalid json response body at " + answer.url + " reason: " + parseErrorMessage(e));
  }
}
ReflectDefineProperty(globalObject, "geolocation", hiddenProperty(geolocation));

function installFetchMocks(mocksJSON) {
  fetchMocks = mocksJSON === "" ? null : JSONparse(mocksJSON);
  ReflectDefineProperty(globalObject, "fetch", hiddenProperty(fetchMocks === null ? realFetch : mockFetch));
  ReflectDefineProperty(globalObject, "fetchV2", hiddenProperty(fetchMocks === null ? realFetchV2 : mockFetchV2));
}
