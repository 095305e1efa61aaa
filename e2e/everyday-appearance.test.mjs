// Everyday use, in real Chromium against a real Chatkeep and PostgreSQL, driven by roles, labels
// and visible text as a person would: the theme (System, Light, Dark) and the phone layout (the
// on-screen keyboard, History as a drawer, controls big enough to touch).
//
// Each test signs up its own user in its own browser context (own cookies, own client IP).
// The servers are lib/app-suite.mjs's; the helpers of the everyday tests are in lib/everyday.mjs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  articles,
  assertNoErrors,
  gone,
  history,
  isFocused,
  messageBox,
  newUser,
  openContext,
  signIn,
  signUp,
  tag,
  TEST,
  until,
  visible,
  WAIT,
} from "./lib/app.mjs";
import { startServers, stopServers } from "./lib/app-suite.mjs";
import {
  askAndWait,
  closeHistoryButton,
  currentConversation,
  darkBackground,
  datasetTheme,
  measureTargets,
  openHistoryButton,
  startNewChat,
  themeRadio,
} from "./lib/everyday.mjs";

/** Chatkeep with the built-in retrieval agent. */
let main;

before(async () => {
  ({ main } = await startServers("main"));
});

after(() => stopServers({ main }));

// ---------------------------------------------------------------------------------------------
// Theme

test("the theme can be System, Light or Dark, applies before the app renders, and is kept per browser", TEST, async (t) => {
  const a = await openContext(t, main, { colorScheme: "light" });
  const user = await signUp(a.page, newUser());
  await a.page.getByRole("link", { name: "Settings" }).click();
  await visible(a.page.getByRole("heading", { name: "Appearance" }));
  assert.equal(await themeRadio(a.page, "System").isChecked(), true, "System to begin with");
  assert.ok([null, "system"].includes(await datasetTheme(a.page)));
  assert.equal(await darkBackground(a.page), false, "System follows the light colour scheme");

  await themeRadio(a.page, "Dark").click();
  await until(async () => (await datasetTheme(a.page)) === "dark", "data-theme=dark");
  assert.equal(await themeRadio(a.page, "Dark").isChecked(), true);
  assert.equal(await darkBackground(a.page), true, "Dark is dark, whatever the system says");

  // Already dark when the document is first there, before the app has rendered anything.
  await a.page.goto("/settings", { waitUntil: "domcontentloaded" });
  assert.equal(await datasetTheme(a.page), "dark", "the theme is set before the app renders");
  await visible(a.page.getByRole("heading", { name: "Appearance" }));
  assert.equal(await themeRadio(a.page, "Dark").isChecked(), true);
  assert.equal(await darkBackground(a.page), true);

  await themeRadio(a.page, "Light").click();
  await until(async () => (await datasetTheme(a.page)) === "light", "data-theme=light");
  assert.equal(await darkBackground(a.page), false);
  await themeRadio(a.page, "Dark").click();
  await until(async () => (await datasetTheme(a.page)) === "dark", "data-theme=dark");

  // Another browser (dark system) starts at System: the choice is the browser's, not the account's.
  const b = await openContext(t, main, { colorScheme: "dark" });
  await signIn(b.page, user);
  await b.page.goto("/settings");
  await visible(b.page.getByRole("heading", { name: "Appearance" }));
  assert.equal(await themeRadio(b.page, "System").isChecked(), true, "a new browser starts at System");
  assert.ok([null, "system"].includes(await datasetTheme(b.page)));
  assert.equal(await darkBackground(b.page), true, "System follows the dark colour scheme");
  await themeRadio(b.page, "Light").click();
  await until(async () => (await datasetTheme(b.page)) === "light", "data-theme=light");
  assert.equal(await darkBackground(b.page), false, "Light is light, whatever the system says");
  await themeRadio(b.page, "System").click();
  await until(async () => [null, "system"].includes(await datasetTheme(b.page)), "the theme to follow the system");
  assert.equal(await darkBackground(b.page), true);

  // The first browser kept its own choice.
  await a.page.reload();
  await visible(a.page.getByRole("heading", { name: "Appearance" }));
  assert.equal(await datasetTheme(a.page), "dark");
  assertNoErrors(a, b);
});

// ---------------------------------------------------------------------------------------------
// Phone

test("on a phone the message box stays in view when the on-screen keyboard takes half the screen", TEST, async (t) => {
  const s = await openContext(t, main, { viewport: { width: 390, height: 844 } });
  const { page } = s;
  await signUp(page, newUser());
  await askAndWait(page, `A question long enough to need an answer, ${tag()}`);
  // The page asks the browser to shrink the layout for the keyboard rather than slide it under.
  const viewport = await page.locator('meta[name="viewport"]').getAttribute("content");
  assert.match(viewport, /interactive-widget=resizes-content/);
  // Headless Chromium has no on-screen keyboard; with that setting, one opening is the viewport
  // getting shorter, which is what this does.
  const box = messageBox(page);
  await box.focus();
  await page.setViewportSize({ width: 390, height: 420 });
  await until(async () => {
    const b = await box.boundingBox();
    return b && b.y >= 0 && b.y + b.height <= 420;
  }, "the message box inside the 420 px left above the keyboard");
  await page.keyboard.type("still typing");
  assert.equal(await box.inputValue(), "still typing");
  assert.ok(await isFocused(box));
  assertNoErrors(s);
});

test("on a phone History is a drawer, and every control is big enough to touch", TEST, async (t) => {
  const s = await openContext(t, main, { viewport: { width: 390, height: 844 } });
  const { page } = s;
  await signUp(page, newUser());
  const question = `How do I use Chatkeep on a phone, ${tag()}?`;
  await askAndWait(page, question);
  const id = await currentConversation(page);

  await gone(history(page));
  const checked = [];
  const small = [];
  const headers = page.locator("header");
  for (let i = 0; i < (await headers.count()); i++) await measureTargets(headers.nth(i), "header", checked, small);
  await measureTargets(page.locator("form").filter({ has: messageBox(page) }), "composer", checked, small);

  await openHistoryButton(page).click();
  await visible(history(page));
  await visible(closeHistoryButton(page));
  // The drawer: the innermost element holding both History and its close button.
  const drawer = page.locator("body *").filter({ has: history(page) }).filter({ has: closeHistoryButton(page) }).last();
  await measureTargets(drawer, "drawer", checked, small);
  for (const name of ["Open history", "Send", "Close history", question, `Options for ${question}`]) {
    assert.ok(checked.some((n) => n.includes(name)), `"${name}" was measured (measured: ${JSON.stringify(checked)})`);
  }
  assert.deepEqual(small, [], "controls smaller than 44×44 px");

  await closeHistoryButton(page).click();
  await gone(history(page));

  // Picking a conversation closes the drawer.
  await startNewChat(page);
  await openHistoryButton(page).click();
  await visible(history(page));
  await history(page).getByRole("link", { name: question, exact: true }).click();
  await page.waitForURL((url) => url.pathname === `/c/${id}`, { timeout: WAIT });
  await gone(history(page));
  await until(async () => (await articles(page).count()) === 2, "the conversation");

  // Still a drawer below 768 px…
  await page.setViewportSize({ width: 700, height: 900 });
  await gone(history(page));
  await openHistoryButton(page).click();
  await visible(history(page));
  await closeHistoryButton(page).click();
  await gone(history(page));

  // …and always there from 1024 px.
  await page.setViewportSize({ width: 1024, height: 800 });
  await visible(history(page));
  await gone(openHistoryButton(page));
  assertNoErrors(s);
});
