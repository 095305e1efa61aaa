// Everyday use, in real Chromium against a real Chatkeep and PostgreSQL, driven by roles, labels
// and visible text as a person would: accessibility (axe-core's WCAG A and AA checks on the
// screens and dialogs, a finished answer announced, dialogs that keep and give back the focus).
//
// Each test signs up its own user in its own browser context (own cookies, own client IP).
// The servers are lib/app-suite.mjs's (`slow` writes 400 words at 40 ms each, about 16 s an
// answer); the helpers of the everyday tests are in lib/everyday.mjs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  articles,
  ask,
  assertNoErrors,
  axeViolations,
  gone,
  history,
  isFocused,
  lastArticle,
  newChatButton,
  newUser,
  openContext,
  signUp,
  sleep,
  SLOW_WAIT,
  tag,
  TEST,
  until,
  visible,
  waitForAnswerDone,
} from "./lib/app.mjs";
import { startServers, stopServers } from "./lib/app-suite.mjs";
import {
  askAndWait,
  assertKeepsFocus,
  currentConversation,
  openHistoryButton,
  results,
  searchBox,
  searchDialog,
  selectCheckbox,
  shortcutsDialog,
  SLOW_TEST,
} from "./lib/everyday.mjs";

/** Chatkeep with the built-in retrieval agent. */
let main;
/** Chatkeep whose agent is `upstream`. */
let slow;
let upstream;

before(async () => {
  ({ main, slow, upstream } = await startServers("main", "slow"));
});

after(() => stopServers({ main, slow, upstream }));

for (const colorScheme of ["light", "dark"]) {
  test(`the new screens and dialogs pass axe-core's WCAG A and AA checks (${colorScheme})`, SLOW_TEST, async (t) => {
    const s = await openContext(t, main, { colorScheme, bypassCSP: true, viewport: { width: 1280, height: 800 } });
    const { page } = s;
    const found = [];
    const check = async (what) => found.push(...(await axeViolations(page)).map((v) => `${what}: ${v}`));

    await page.goto("/sign-in");
    await visible(page.getByRole("button", { name: "Sign in", exact: true }));
    await check("sign-in");
    await signUp(page, newUser());
    await check("empty chat");
    const question = "How do I install Chatkeep?";
    await askAndWait(page, question);
    const id = await currentConversation(page);
    await check("chat with an answer");

    await page.getByRole("button", { name: "Search chats" }).click();
    await visible(searchDialog(page));
    await searchBox(page).fill("install");
    await visible(results(page).getByRole("link").filter({ hasText: /install/i }));
    await check("search dialog with results");
    await page.keyboard.press("Escape");
    await gone(searchDialog(page));

    await newChatButton(page).first().focus();
    await page.keyboard.press("Shift+Slash");
    await visible(shortcutsDialog(page));
    await check("keyboard shortcuts dialog");
    await page.keyboard.press("Escape");
    await gone(shortcutsDialog(page));

    await page.getByRole("button", { name: "Select", exact: true }).click();
    await selectCheckbox(page, question).click();
    await page.getByRole("button", { name: "Delete selected" }).click();
    const confirm = page.getByRole("dialog", { name: /Delete 1 conversations?\?/ });
    await visible(confirm);
    await check("bulk delete confirmation");
    await confirm.getByRole("button", { name: "Cancel", exact: true }).click();
    await gone(confirm);
    await page.getByRole("button", { name: "Done", exact: true }).click();

    await page.getByRole("link", { name: "Settings" }).click();
    await visible(page.getByRole("heading", { name: "Your data" }));
    await visible(page.getByRole("heading", { name: "Appearance" }));
    await visible(page.getByText("This device"));
    await check("settings");

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`/c/${id}`);
    await until(async () => (await articles(page).count()) === 2, "the conversation");
    await openHistoryButton(page).click();
    await visible(history(page));
    await check("390 px, history drawer open");

    assert.deepEqual(found, [], `${colorScheme}: accessibility problems`);
    assertNoErrors(s);
  });
}

test("a finished answer is announced politely, and nothing is announced while it is written", SLOW_TEST, async (t) => {
  const s = await openContext(t, slow);
  const { page } = s;
  await signUp(page, newUser());
  await ask(page, `Tell me a story to read aloud, ${tag()}`);
  await visible(lastArticle(page).getByText("word-5"));
  const stop = page.getByRole("button", { name: "Stop", exact: true });
  // The log itself (role=log) may be live; the announcer is a status.
  const liveTexts = () =>
    page.locator('[aria-live="polite"]:not([role="log"])').evaluateAll((els) => els.map((el) => el.textContent.trim()));
  const samples = [];
  for (let i = 0; i < 2; i++) {
    const streamingBefore = await stop.isVisible();
    const texts = await liveTexts();
    const streamingAfter = await stop.isVisible();
    if (streamingBefore && streamingAfter) samples.push(texts);
    await sleep(1_500);
  }
  if (samples.length < 2) t.diagnostic(`only ${samples.length} samples were taken while the answer was written`);
  for (const texts of samples) {
    for (const text of texts) {
      assert.ok(!text.includes("word-"), `nothing of the partial answer is announced (${text.slice(0, 80)})`);
      assert.doesNotMatch(text, /Answer finished/);
    }
  }
  if (samples.length === 2) assert.deepEqual(samples[0], samples[1], "the live region does not change while the answer is written");

  await waitForAnswerDone(page, SLOW_WAIT);
  // (Visually hidden, most likely: what counts is what it says.)
  await until(
    () =>
      page
        .locator('[aria-live="polite"][role="status"]')
        .evaluateAll((els) => els.some((el) => /Answer finished/.test(el.textContent) && el.textContent.includes("Slow answer begins"))),
    "a polite status to say the answer is finished, with its first words",
  );
  assertNoErrors(s);
});

test("dialogs keep the focus inside, close on Escape and give the focus back to what opened them", TEST, async (t) => {
  const s = await openContext(t, main, { viewport: { width: 1280, height: 800 } });
  const { page } = s;
  await signUp(page, newUser());
  const question = "How do I install Chatkeep?";
  await askAndWait(page, question);

  // Search, from its button, with results to tab through.
  const searchButton = page.getByRole("button", { name: "Search chats" });
  await searchButton.click();
  await visible(searchDialog(page));
  await searchBox(page).fill("install");
  await visible(results(page).getByRole("link").filter({ hasText: /install/i }));
  await assertKeepsFocus(page, searchDialog(page), "Search");
  await page.keyboard.press("Escape");
  await gone(searchDialog(page));
  await until(() => isFocused(searchButton), "the focus back on Search chats");

  // Keyboard shortcuts, from a key press on New chat.
  await newChatButton(page).first().focus();
  await page.keyboard.press("Shift+Slash");
  await visible(shortcutsDialog(page));
  await assertKeepsFocus(page, shortcutsDialog(page), "Keyboard shortcuts");
  await page.keyboard.press("Escape");
  await gone(shortcutsDialog(page));
  await until(() => isFocused(newChatButton(page).first()), "the focus back on New chat");

  // The bulk delete confirmation, from Delete selected. Escape deletes nothing.
  await page.getByRole("button", { name: "Select", exact: true }).click();
  await selectCheckbox(page, question).click();
  const deleteSelected = page.getByRole("button", { name: "Delete selected" });
  await deleteSelected.click();
  const confirm = page.getByRole("dialog", { name: /Delete 1 conversations?\?/ });
  await visible(confirm);
  await assertKeepsFocus(page, confirm, "Delete");
  await page.keyboard.press("Escape");
  await gone(confirm);
  await until(() => isFocused(deleteSelected), "the focus back on Delete selected");
  await visible(history(page).getByRole("link", { name: question, exact: true }));
  assertNoErrors(s);
});
