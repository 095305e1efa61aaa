// The Admin page in real Chromium: an administrator finds an account and bans, unbans, signs out,
// changes the role of and deletes it, each after a confirmation that says what happens; anyone
// else finds no such page. axe-core, and screenshots (wide and 390 px, light and dark).
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import {
  assertNoErrors,
  axeViolations,
  closeBrowser,
  newUser,
  openBrowser,
  openContext,
  signIn,
  signUp,
  submitSignIn,
  TEST,
  until,
  visible,
} from "./lib/app.mjs";
import { serverUrl, startChatkeep } from "./lib/chatkeep.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const screenshotDir = process.env.SCREENSHOT_DIR ?? path.join(root, "target", "screenshots");

let server;
let db;
before(async () => {
  [server] = await Promise.all([
    startChatkeep({ env: { CHATKEEP_TRUSTED_PROXIES: "127.0.0.1" } }),
    openBrowser(),
  ]);
  db = new pg.Client({ connectionString: `${serverUrl}/${server.database}` });
  await db.connect();
});
after(async () => {
  await db?.end();
  await closeBrowser();
  await server?.stop();
});

/** Signs up through the app, then is made an administrator the way the first one is. */
async function adminIn(page) {
  const admin = await signUp(page, newUser("Root"));
  await db.query(`UPDATE "user" SET role = 'admin' WHERE email = $1`, [admin.email]);
  await page.goto("/");
  return admin;
}

const accountRow = (page, email) => page.getByRole("row").filter({ hasText: email });
const dialog = (page) => page.getByRole("dialog");

test("an administrator bans, unbans, signs out, changes the role of and deletes an account", TEST, async (t) => {
  const other = await openContext(t, server);
  const member = await signUp(other.page, newUser("Member"));

  const s = await openContext(t, server);
  const { page } = s;
  await adminIn(page);
  await page.goto("/settings");
  await visible(page.getByRole("heading", { name: "Administration" }));
  await visible(page.getByRole("link", { name: "Open the Admin page" }));
  await page.getByRole("link", { name: "Admin", exact: true }).click();
  await visible(page.getByRole("heading", { name: "Admin", level: 1 }));
  await page.getByRole("searchbox", { name: "Search accounts" }).fill(member.email);
  await visible(page.getByRole("status").filter({ hasText: "1–1 of 1 account" }));
  const row = accountRow(page, member.email);
  await visible(row.getByRole("cell", { name: "Password" }));

  await row.getByRole("button", { name: "Ban" }).click();
  await visible(dialog(page).getByText("Their sessions end now, and they cannot sign in until the ban is lifted."));
  await dialog(page).getByLabel("Reason (optional, seen by administrators only)").fill("spam");
  await dialog(page).getByLabel("For how long").selectOption("7 days");
  await dialog(page).getByRole("button", { name: "Ban" }).click();
  await visible(row.getByText(/^Banned until /));
  // The member's open tab is signed out on its next request, and signing in says why not.
  await other.page.reload();
  await visible(other.page.getByRole("heading", { name: "Sign in", exact: true }));
  await submitSignIn(other.page, member);
  await visible(other.page.getByText("You have been banned from this application"));

  await row.getByRole("button", { name: "Unban" }).click();
  await visible(dialog(page).getByText("They can sign in again at once."));
  await dialog(page).getByRole("button", { name: "Unban" }).click();
  await visible(row.getByRole("button", { name: "Ban" }));
  await signIn(other.page, member);

  await row.getByRole("button", { name: "Sign out everywhere" }).click();
  await visible(dialog(page).getByText("Every session on every device ends now."));
  await dialog(page).getByRole("button", { name: "Sign out everywhere" }).click();
  await dialog(page).waitFor({ state: "detached" });
  await until(async () => {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM session s JOIN "user" u ON u.id = s."userId" WHERE u.email = $1`, [member.email]);
    return rows[0].n === 0;
  }, "the member's sessions to end");

  await row.getByRole("button", { name: "Change role" }).click();
  await visible(dialog(page).getByRole("heading", { name: `Make ${member.email} an administrator?` }));
  await dialog(page).getByRole("button", { name: "Change role" }).click();
  await visible(row.getByText("Admin", { exact: true }));

  await row.getByRole("button", { name: "Delete user" }).click();
  await visible(dialog(page).getByText("This cannot be undone."));
  await dialog(page).getByRole("button", { name: "Delete user" }).click();
  await visible(page.getByRole("status").filter({ hasText: "No accounts match." }));
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM "user" WHERE email = $1`, [member.email]);
  assert.equal(rows[0].n, 0);
  assertNoErrors(s);
});

test("anyone else finds no Admin link and no Admin page", TEST, async (t) => {
  const s = await openContext(t, server);
  await signUp(s.page, newUser("Nosy"));
  assert.equal(await s.page.getByRole("link", { name: "Admin" }).count(), 0);
  await s.page.goto("/settings");
  await visible(s.page.getByRole("heading", { name: "Settings", level: 1 }));
  assert.equal(await s.page.getByRole("heading", { name: "Administration" }).count(), 0);
  const response = await s.page.goto("/admin");
  assert.equal(response.status(), 404);
  await visible(s.page.getByRole("heading", { name: "Page not found" }));
  assert.equal(await s.page.getByRole("table").count(), 0);
});

test("the Admin page passes axe-core's WCAG A and AA checks, and is pictured", { timeout: 600_000 }, async (t) => {
  await mkdir(screenshotDir, { recursive: true });
  const first = await openContext(t, server);
  await adminIn(first.page);
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    for (const colorScheme of ["light", "dark"]) {
      const s = await openContext(t, server, { viewport: { width, height }, colorScheme, bypassCSP: true });
      const { page } = s;
      await adminIn(page);
      await page.goto("/admin");
      await visible(page.getByRole("table"));
      assert.deepEqual(await axeViolations(page), [], `${width} ${colorScheme}: the Admin page`);
      await page.screenshot({ path: path.join(screenshotDir, `${width}-${colorScheme}-admin.png`), animations: "disabled" });
      await page.getByRole("row").nth(1).getByRole("button", { name: "Sign out everywhere" }).click();
      await visible(dialog(page));
      assert.deepEqual(await axeViolations(page), [], `${width} ${colorScheme}: a confirmation`);
      await page.screenshot({ path: path.join(screenshotDir, `${width}-${colorScheme}-admin-confirm.png`), animations: "disabled" });
      assertNoErrors(s);
    }
  }
});
