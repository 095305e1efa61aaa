// The OFFICIAL Better Auth client, made usable from Node: browsers keep cookies and send Origin by
// themselves, Node's fetch does neither. Without the Origin header every sign-up/sign-in fails with
// 403 MISSING_OR_NULL_ORIGIN, because undici sends `sec-fetch-mode: cors` (reference §8, §11).
import { createAuthClient } from "better-auth/client";
import { adminClient, anonymousClient, jwtClient } from "better-auth/client/plugins";

/**
 * One cookie jar per client = one browser profile. It serves a single server, so Domain and Path
 * are ignored; only what a Better Auth session needs is modelled: set, replace, Max-Age/Expires
 * deletion.
 */
export class CookieJar {
  /** @type {Map<string, string>} name -> raw (still URL-encoded) value */
  cookies = new Map();

  /** @param {Headers} headers a response's headers */
  store(headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";").map((part) => part.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (isDeletion(attributes)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  get(name) {
    return this.cookies.get(name);
  }

  set(name, value) {
    this.cookies.set(name, value);
  }
}

function isDeletion(attributes) {
  for (const attribute of attributes) {
    const [key, value = ""] = attribute.split("=");
    const name = key.toLowerCase();
    if (name === "max-age" && Number(value) <= 0) return true;
    if (name === "expires" && Date.parse(value) <= Date.now()) return true;
  }
  return false;
}

export const SESSION_COOKIE = "better-auth.session_token";

/**
 * @param {string} serverUrl origin of the server, e.g. http://127.0.0.1:3100 (Better Auth under /api/auth)
 * @returns `client`: the official client; `jar`: its cookies; `captured`: the latest
 *   `set-auth-token` and `set-auth-jwt` values seen (never cleared, so compare before/after a
 *   call) and the `lastResponse`. (The client is a Proxy that turns every property into a route,
 *   hence the wrapper object rather than extra properties on it.)
 */
export function makeClient(serverUrl) {
  const origin = new URL(serverUrl).origin;
  const jar = new CookieJar();
  const captured = { "set-auth-token": null, "set-auth-jwt": null, lastResponse: null };

  async function customFetchImpl(input, init = {}) {
    const headers = new Headers(init.headers);
    const method = (init.method ?? "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD") headers.set("origin", origin);
    const cookie = jar.header();
    if (cookie) headers.set("cookie", cookie);
    const response = await fetch(input, { ...init, headers });
    jar.store(response.headers);
    for (const name of ["set-auth-token", "set-auth-jwt"]) {
      const value = response.headers.get(name);
      if (value) captured[name] = value;
    }
    captured.lastResponse = response;
    return response;
  }

  const client = createAuthClient({
    baseURL: `${origin}/api/auth`,
    plugins: [jwtClient(), anonymousClient(), adminClient()],
    fetchOptions: { customFetchImpl },
  });
  return { client, jar, captured };
}
