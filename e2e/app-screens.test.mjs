// The chat app in real Chromium against a real Chatkeep and PostgreSQL, driven the way a person
// uses it: by roles, labels and visible text. Every screen: axe-core's WCAG A and AA checks, and
// screenshots (in $SCREENSHOT_DIR, by default target/screenshots).
//
// The servers are lib/app-suite.mjs's; the helpers (contexts of their own with their own client
// IP, sign-up, ask, …) are in lib/app.mjs.
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  articles,
  ask,
  assertNoErrors,
  axeViolations,
  conversationId,
  focusNothing,
  gone,
  history,
  lastArticle,
  messageBox,
  newChatButton,
  newUser,
  openContext,
  openMenu,
  signIn,
  signUp,
  TEST,
  until,
  visible,
  WAIT,
  waitForAnswerDone,
  watchRequests,
} from "./lib/app.mjs";
import { startServers, stopServers } from "./lib/app-suite.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const screenshotDir = process.env.SCREENSHOT_DIR ?? path.join(root, "target", "screenshots");

/** Chatkeep with the built-in retrieval agent. */
let main;

before(async () => {
  ({ main } = await startServers("main"));
});

after(() => stopServers({ main }));

// ---------------------------------------------------------------------------------------------
// Accessibility

test("every screen passes axe-core's WCAG A and AA checks in light and dark", TEST, async (t) => {
  for (const colorScheme of ["light", "dark"]) {
    // axe-core is injected as an inline script, which the app's CSP (rightly) refuses.
    const s = await openContext(t, main, { colorScheme, bypassCSP: true });
    const { page } = s;
    const found = [];
    await page.goto("/sign-in");
    await visible(page.getByRole("button", { name: "Sign in", exact: true }));
    found.push(...(await axeViolations(page)).map((v) => `sign-in: ${v}`));
    await page.goto("/sign-up");
    await visible(page.getByRole("button", { name: "Create account" }));
    found.push(...(await axeViolations(page)).map((v) => `sign-up: ${v}`));
    await signUp(page, newUser());
    found.push(...(await axeViolations(page)).map((v) => `empty chat: ${v}`));
    await ask(page, "How do I install Chatkeep?");
    await waitForAnswerDone(page);
    found.push(...(await axeViolations(page)).map((v) => `chat: ${v}`));
    await page.getByRole("link", { name: "Settings" }).click();
    await visible(page.getByRole("heading", { name: "Sessions" }));
    await visible(page.getByText("This device"));
    found.push(...(await axeViolations(page)).map((v) => `settings: ${v}`));
    assert.deepEqual(found, [], `${colorScheme}: accessibility problems`);
    assertNoErrors(s);
  }
});

// ---------------------------------------------------------------------------------------------
// Screenshots

/** At narrow widths History is a drawer: opens it unless it is open already. */
async function showHistory(page) {
  if (await history(page).isVisible()) return;
  await page.getByRole("button", { name: "Open history" }).click();
  await visible(history(page));
}

/** Closes the History drawer if it is open (at narrow widths). */
async function hideHistoryDrawer(page) {
  const close = page.getByRole("button", { name: "Close history" });
  if (await close.isVisible()) {
    await close.click();
    await gone(history(page));
  }
}

/** The versions group of the conversation's first question. */
const firstQuestionVersions = (page) => articles(page).first().getByRole("group", { name: "question versions" });

test("screenshots of every screen", { timeout: 600_000 }, async (t) => {
  await mkdir(screenshotDir, { recursive: true });
  const setup = await openContext(t, main);
  const user = await signUp(setup.page, newUser("Grace"));
  const first = "How do I install Chatkeep?";
  await ask(setup.page, first);
  await waitForAnswerDone(setup.page);
  const chatId = conversationId(setup.page);
  await ask(setup.page, "How do I change my password?");
  await waitForAnswerDone(setup.page);
  await newChatButton(setup.page).click();
  await setup.page.waitForURL((url) => url.pathname === "/", { timeout: WAIT });
  await ask(setup.page, "Where is my data stored?");
  await waitForAnswerDone(setup.page);
  const menu = await openMenu(setup.page, first);
  await menu.getByRole("menuitem", { name: "Pin", exact: true }).click();
  await visible(history(setup.page).getByRole("heading", { name: "Pinned" }));

  // The first question of the first chat, edited: a second branch with its own answer. Then back
  // to the first branch, which the conversation remembers, so "chat" shows all four messages.
  await setup.page.goto(`/c/${chatId}`);
  await until(async () => (await articles(setup.page).count()) === 4, "the transcript");
  await waitForAnswerDone(setup.page);
  await articles(setup.page).first().getByRole("button", { name: "Edit", exact: true }).click();
  const editor = setup.page.getByRole("textbox", { name: "Edit your message" });
  await visible(editor);
  await editor.fill("How do I install Chatkeep with Docker?");
  await setup.page.getByRole("button", { name: "Send edit", exact: true }).click();
  await visible(firstQuestionVersions(setup.page).getByText("2 / 2"));
  await waitForAnswerDone(setup.page);
  const requests = watchRequests(setup.page);
  await firstQuestionVersions(setup.page).getByRole("button", { name: "Previous question" }).click();
  await visible(firstQuestionVersions(setup.page).getByText("1 / 2"));
  await until(async () => (await articles(setup.page).count()) === 4, "the first branch again");
  await requests.idle();

  const variants = [];
  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ]) {
    for (const colorScheme of ["light", "dark"]) variants.push({ width, height, colorScheme });
  }
  const sessions = [setup];
  for (const { width, height, colorScheme } of variants) {
    const s = await openContext(t, main, { viewport: { width, height }, colorScheme });
    sessions.push(s);
    const { page } = s;
    const shot = (name) =>
      page.screenshot({ path: path.join(screenshotDir, `${width}-${colorScheme}-${name}.png`), animations: "disabled" });

    await page.goto("/sign-in");
    await visible(page.getByRole("heading", { name: "Sign in", exact: true }));
    await shot("sign-in");

    await signIn(page, user);
    await page.goto("/");
    // Below 768 px "New chat" may sit in the closed history drawer.
    if (width >= 768) await visible(newChatButton(page));
    await visible(messageBox(page));
    await shot("empty-chat");

    await page.goto(`/c/${chatId}`);
    await until(async () => (await articles(page).count()) === 4, "the transcript");
    await visible(lastArticle(page).getByRole("list", { name: "Sources" }));
    await shot("chat");

    // The edited first question: "‹ 2 / 2 ›" on it, and its own answer. Then back to the first
    // branch, so the next variant opens the chat as this one did.
    await firstQuestionVersions(page).getByRole("button", { name: "Next question" }).click();
    await visible(firstQuestionVersions(page).getByText("2 / 2"));
    await until(async () => (await articles(page).count()) === 2, "the edited branch");
    await waitForAnswerDone(page);
    await shot("branches");
    const requests = watchRequests(page);
    await firstQuestionVersions(page).getByRole("button", { name: "Previous question" }).click();
    await visible(firstQuestionVersions(page).getByText("1 / 2"));
    await until(async () => (await articles(page).count()) === 4, "the first branch again");
    await requests.idle();

    if (width < 768) await showHistory(page);
    await page.getByRole("button", { name: "Search chats" }).click();
    const search = page.getByRole("dialog", { name: "Search" });
    await visible(search);
    await search.getByRole("searchbox", { name: "Search your chats" }).fill("install");
    await visible(search.getByRole("list", { name: "Results" }).getByRole("link").filter({ hasText: /install/i }));
    await visible(search.getByRole("status").filter({ hasText: /\d+ results?/ }));
    await shot("search");
    await page.keyboard.press("Escape");
    await gone(search);

    await hideHistoryDrawer(page);
    await focusNothing(page);
    await page.keyboard.press("Shift+Slash");
    const shortcuts = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    await visible(shortcuts);
    await shot("shortcuts");
    await page.keyboard.press("Escape");
    await gone(shortcuts);

    // The search above filtered History to "install", and the filter box keeps it: empty it so
    // the screenshot shows the whole list.
    if (width < 768) await showHistory(page);
    const filter = page.getByRole("searchbox", { name: "Filter conversations" });
    assert.equal(await filter.inputValue(), "install");
    await filter.fill("");
    await visible(history(page).getByRole("heading", { name: "Pinned" }));
    await visible(history(page).getByRole("link", { name: "Where is my data stored?", exact: true }));
    await shot("history");

    await page.goto("/settings");
    await visible(page.getByRole("heading", { name: "Profile" }));
    await visible(page.getByRole("heading", { name: "Sessions" }));
    await shot("settings");
  }
  assertNoErrors(...sessions);
});
