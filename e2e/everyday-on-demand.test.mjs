// Everyday use, in real Chromium against a real Chatkeep and PostgreSQL, driven by roles, labels
// and visible text as a person would: the parts of the app loaded on demand (pages and dialogs
// most visits never open, fetched when first opened).
//
// The servers are lib/app-suite.mjs's; the helpers of the everyday tests are in lib/everyday.mjs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  assertNoErrors,
  focusNothing,
  forgiveErrors,
  gone,
  isFocused,
  messageBox,
  newUser,
  openContext,
  signUp,
  TEST,
  until,
  visible,
} from "./lib/app.mjs";
import { startServers, stopServers } from "./lib/app-suite.mjs";
import { searchBox, searchDialog, shortcutsDialog } from "./lib/everyday.mjs";

/** Chatkeep with the built-in retrieval agent. */
let main;

before(async () => {
  ({ main } = await startServers("main"));
});

after(() => stopServers({ main }));

test("pages and dialogs most visits never open are fetched when first opened; one that cannot be fetched says so and loads on Try again", TEST, async (t) => {
  const session = await openContext(t, main);
  const { page } = session;
  const fetched = [];
  page.on("request", (r) => {
    const part = /\/(split_\w+)\.wasm$/.exec(new URL(r.url()).pathname);
    if (part) fetched.push(part[1]);
  });

  await signUp(page, newUser());
  // The banner that asks a new account to verify its address is a part too.
  await visible(page.getByRole("region", { name: "Verify your email address" }));
  assert.deepEqual(fetched, ["split_auth_form", "split_verify_banner"], "the sign-up form and the banner are parts of their own");
  await page.reload();
  await visible(messageBox(page));
  await visible(page.getByRole("region", { name: "Verify your email address" }));
  assert.deepEqual(
    fetched,
    ["split_auth_form", "split_verify_banner", "split_verify_banner"],
    "the chat needs no other part (the banner is asked for again on a reload)",
  );

  // Settings cannot be fetched (the network drops that one file): said, and Try again loads it.
  await page.route("**/split_settings_page.wasm", (route) => route.abort("internetdisconnected"));
  await page.getByRole("link", { name: "Settings" }).click();
  const failure = page.getByRole("alert").filter({ hasText: "Settings could not be loaded. Check your connection and try again." });
  await visible(failure);
  await page.unroute("**/split_settings_page.wasm");
  await failure.getByRole("button", { name: "Try again" }).click();
  await visible(page.getByRole("heading", { name: "Settings", level: 1 }));
  await gone(failure);

  // Search and the shortcuts list arrive with their first opening, and work.
  await focusNothing(page);
  await page.keyboard.press("Control+k");
  await visible(searchBox(page));
  await until(() => isFocused(searchBox(page)), "the focus in the search box");
  await page.keyboard.press("Escape");
  await gone(searchDialog(page));
  await page.keyboard.press("?");
  await visible(shortcutsDialog(page));
  assert.deepEqual(
    fetched.filter((p) => p !== "split_auth_form" && p !== "split_verify_banner").sort(),
    ["split_search_dialog", "split_settings_page", "split_settings_page", "split_shortcuts_dialog"],
    "each part fetched when first opened (settings twice: the failed try and the one after it)",
  );
  forgiveErrors(session, /split_settings_page|Failed to fetch|ERR_INTERNET_DISCONNECTED/);
  assertNoErrors(session);
});
