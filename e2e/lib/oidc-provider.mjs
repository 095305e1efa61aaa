// A real OpenID provider for the identity-provider tests: the npm `oidc-provider` package (the
// certified implementation), on a loopback port, with one confidential client registered for
// the server under test, accounts that claim an email (verified or not), and its built-in login
// and consent screens, which `signInAt` fills as a person would (or a browser page does).
import http from "node:http";

/**
 * Runs `fn` without the package's quick-start warnings (development signing keys, in-memory
 * storage, its own login screens, a Node.js older than it likes): a test provider is exactly
 * that, and they would repeat in every test report. Every other warning still shows.
 */
async function withoutQuickStartWarnings(fn) {
  const warn = console.warn;
  console.warn = (...args) => {
    const quickStart = /oidc-provider WARNING: (a quick start development-only|quick start development-only|Unsupported runtime)/;
    if (!(typeof args[0] === "string" && quickStart.test(args[0]))) warn.apply(console, args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

/**
 * @param {{
 *   redirectUris: string[],          // where the client may be sent back (the server's callback)
 *   clientId?: string, clientSecret?: string,
 *   accounts?: Record<string, {email: string, email_verified?: boolean, name?: string, picture?: string}>,
 *                                    // read at every sign-in, so a test may add people as it goes
 * }} options
 * @returns {Promise<{issuer: string, clientId: string, clientSecret: string, close(): Promise<void>}>}
 */
export async function startOidcProvider(options) {
  const clientId = options.clientId ?? "chatkeep";
  const clientSecret = options.clientSecret ?? "chatkeep-test-client-secret";
  const accounts = options.accounts ?? {};
  // Listen first: the issuer URL needs the port.
  let callback;
  const server = http.createServer((req, res) => callback(req, res));
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = await withoutQuickStartWarnings(async () => {
    const { default: Provider } = await import("oidc-provider");
    return new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: options.redirectUris,
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "client_secret_post",
        },
      ],
      claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "picture"] },
      async findAccount(_ctx, sub) {
        const account = accounts[sub] ?? { email: `${sub}@example.com`, email_verified: true, name: sub };
        return { accountId: sub, claims: async () => ({ sub, email_verified: true, ...account }) };
      },
      cookies: { keys: ["oidc-provider-test-cookie-key"] },
      // Set, or the package reminds you of each default on first use; an hour outlasts any test.
      ttl: { Interaction: 3600, Session: 3600, Grant: 3600, AccessToken: 3600, IdToken: 3600 },
      // Loopback http issuers are what this test runs; the package allows them outside production.
    });
  });
  provider.proxy = false;
  callback = provider.callback();
  return {
    issuer,
    clientId,
    clientSecret,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Follows an authorization URL through the provider's own login and consent screens as `login`,
 * without a browser: returns the URL the provider sends the person back to (the server's
 * callback, with `code`, `state` and `iss`).
 */
export async function signInAt(authorizationUrl, login) {
  const jar = new Map();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const keep = (response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const at = pair.indexOf("=");
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
  };
  const go = async (url, init = {}) => {
    const response = await fetch(url, { ...init, redirect: "manual", headers: { ...init.headers, cookie: cookie() } });
    keep(response);
    return response;
  };
  const form = { "content-type": "application/x-www-form-urlencoded" };
  let url = authorizationUrl;
  for (let step = 0; step < 12; step += 1) {
    const response = await go(url);
    const location = response.headers.get("location");
    if (location) {
      const next = new URL(location, url);
      if (!next.pathname.startsWith("/interaction/") && next.origin !== new URL(authorizationUrl).origin) {
        return next.href;
      }
      url = next.href;
      continue;
    }
    const page = await response.text();
    const prompt = page.includes('name="login"') ? `prompt=login&login=${encodeURIComponent(login)}&password=x` : "prompt=consent";
    const answered = await go(url, { method: "POST", headers: form, body: prompt });
    url = new URL(answered.headers.get("location"), url).href;
  }
  throw new Error("the provider's screens did not end in a redirect back");
}
