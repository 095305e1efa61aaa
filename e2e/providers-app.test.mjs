// Identity providers in the app, in real Chromium against the real OpenID provider (npm
// `oidc-provider`): "Continue with {name}" through the provider's own login and consent screens
// and back signed in; Settings' "Sign-in methods" linking and unlinking; a refused sign-in told in
// a sentence; axe-core and screenshots (wide and 390 px, light and dark).
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  assertNoErrors,
  axeViolations,
  closeBrowser,
  forgiveErrors,
  newChatButton,
  newUser,
  openBrowser,
  openContext,
  signUp,
  TEST,
  visible,
} from "./lib/app.mjs";
import { freePort } from "./lib/auth-target.mjs";
import { startChatkeep } from "./lib/chatkeep.mjs";
import { startOidcProvider } from "./lib/oidc-provider.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const screenshotDir = process.env.SCREENSHOT_DIR ?? path.join(root, "target", "screenshots");

/** The provider's people, by login name; a test adds its own before signing in. */
const people = {};
let provider;
let server;
before(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({ redirectUris: [`${base}/api/auth/callback/corp`], accounts: people });
  [server] = await Promise.all([
    startChatkeep({
      env: {
        CHATKEEP_BIND: `127.0.0.1:${port}`,
        BETTER_AUTH_URL: base,
        CHATKEEP_TRUSTED_PROXIES: "127.0.0.1",
        OIDC_PROVIDERS: "corp",
        OIDC_CORP_ISSUER: provider.issuer,
        OIDC_CORP_CLIENT_ID: provider.clientId,
        OIDC_CORP_CLIENT_SECRET: provider.clientSecret,
        OIDC_CORP_NAME: "Corp SSO",
      },
    }),
    openBrowser(),
  ]);
});
after(async () => {
  await closeBrowser();
  await server?.stop();
  await provider?.close();
});

const continueWith = (page) => page.getByRole("button", { name: "Continue with Corp SSO" });
const methods = (page) => page.getByRole("region", { name: "Sign-in methods" });

/** Errors on the provider's own pages (its development screens fetch a stylesheet from the
 * internet, which this machine cannot reach) are the provider's, not the app's. */
function forgiveTheProvider(...sessions) {
  for (const s of sessions) forgiveErrors(s, new RegExp(`on ${provider.issuer}/`));
}

/** The provider's own screens, as a person fills them: log in as `login`, then consent. */
async function atTheProvider(page, login) {
  await page.waitForURL((url) => url.origin === provider.issuer);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();
  await page.getByRole("button", { name: "Continue" }).click();
}

test("a new person continues with the provider and lands in the chat, signed in", TEST, async (t) => {
  const s = await openContext(t, server);
  const { page } = s;
  const login = `new-${Date.now()}`;
  people[login] = { email: `${login}@example.com`, email_verified: true, name: "Nova Provider" };
  await page.goto("/sign-in");
  await continueWith(page).click();
  await atTheProvider(page, login);
  await visible(newChatButton(page));

  await page.goto("/settings");
  await visible(methods(page));
  await visible(methods(page).getByText("Corp SSO"));
  await visible(methods(page).getByText("Linked: your only way to sign in, so it stays until you add another."));
  await visible(methods(page).getByRole("button", { name: "Set a password" }));
  // The only way in cannot be unlinked, and there is no password to change.
  assert.equal(await methods(page).getByRole("button", { name: "Unlink Corp SSO" }).isDisabled(), true);
  assert.equal(await page.getByRole("heading", { name: "Password", exact: true }).count(), 0);
  forgiveTheProvider(s);
  assertNoErrors(s);
});

test("a password account links the provider in Settings, signs in with it, and unlinks it", TEST, async (t) => {
  const s = await openContext(t, server);
  const { page } = s;
  const user = newUser("Linker");
  await signUp(page, user);
  const login = `link-${Date.now()}`;
  people[login] = { email: user.email, email_verified: true, name: user.name };
  await page.goto("/settings");
  await methods(page).getByRole("button", { name: "Link Corp SSO" }).click();
  await atTheProvider(page, login);
  await visible(methods(page).getByText("Corp SSO is linked: you can sign in with it."));
  await visible(methods(page).getByRole("button", { name: "Unlink Corp SSO" }));

  // Signed out, the provider signs the same account in.
  const other = await openContext(t, server);
  await other.page.goto("/sign-in");
  await continueWith(other.page).click();
  await atTheProvider(other.page, login);
  await visible(newChatButton(other.page));
  await other.page.goto("/settings");
  await visible(other.page.getByText(`Signed in as ${user.email}`));

  await methods(page).getByRole("button", { name: "Unlink Corp SSO" }).click();
  await visible(methods(page).getByText("Corp SSO is unlinked."));
  await visible(methods(page).getByRole("button", { name: "Link Corp SSO" }));
  forgiveTheProvider(s, other);
  assertNoErrors(s, other);
});

test("a provider address that matches an account it did not verify is refused, in a sentence", TEST, async (t) => {
  const s = await openContext(t, server);
  const { page } = s;
  const user = newUser("Owner");
  await signUp(page, user);
  const intruder = `intruder-${Date.now()}`;
  people[intruder] = { email: user.email, email_verified: false, name: "Not the owner" };
  const stranger = await openContext(t, server);
  await stranger.page.goto("/sign-in");
  await continueWith(stranger.page).click();
  await atTheProvider(stranger.page, intruder);
  await visible(stranger.page.getByRole("alert").getByText(/An account with this email address already exists here, and the provider did not confirm the address is yours/));
  await visible(stranger.page.getByRole("heading", { name: "Sign in", exact: true }));
  forgiveErrors(stranger, /status of 401/);
  forgiveTheProvider(stranger);
  assertNoErrors(s, stranger);
});

test("the provider pages pass axe-core's WCAG A and AA checks, and are pictured", { timeout: 600_000 }, async (t) => {
  await mkdir(screenshotDir, { recursive: true });
  const login = `pictured-${Date.now()}`;
  people[login] = { email: `${login}@example.com`, email_verified: true, name: "Pictured Person" };
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    for (const colorScheme of ["light", "dark"]) {
      const s = await openContext(t, server, { viewport: { width, height }, colorScheme, bypassCSP: true });
      const { page } = s;
      const shot = (name) =>
        page.screenshot({ path: path.join(screenshotDir, `${width}-${colorScheme}-${name}.png`), animations: "disabled", fullPage: true });
      await page.goto("/sign-up");
      await visible(continueWith(page));
      assert.deepEqual(await axeViolations(page), [], `${width} ${colorScheme}: sign-up with a provider`);
      await shot("sign-up-providers");
      await page.goto("/sign-in?error=account_not_linked");
      await visible(page.getByRole("alert").getByText(/already exists here/));
      assert.deepEqual(await axeViolations(page), [], `${width} ${colorScheme}: a refused provider sign-in`);
      await shot("sign-in-provider-refused");
      await continueWith(page).click();
      await atTheProvider(page, login);
      await visible(newChatButton(page));
      await page.goto("/settings");
      await visible(methods(page).getByRole("button", { name: "Set a password" }));
      await methods(page).scrollIntoViewIfNeeded();
      assert.deepEqual(await axeViolations(page), [], `${width} ${colorScheme}: settings' sign-in methods`);
      await methods(page).screenshot({ path: path.join(screenshotDir, `${width}-${colorScheme}-sign-in-methods.png`), animations: "disabled" });
      forgiveErrors(s, /status of 401/);
      forgiveTheProvider(s);
      assertNoErrors(s);
    }
  }
});
