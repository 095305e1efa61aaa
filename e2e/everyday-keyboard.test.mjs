// Everyday use, in real Chromium against a real Chatkeep and PostgreSQL, driven by roles, labels
// and visible text as a person would: the keyboard shortcuts (Cmd in Ctrl's place on a Mac), and
// Escape stopping an answer.
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
  gone,
  history,
  isFocused,
  lastArticle,
  messageBox,
  newChatButton,
  newUser,
  openContext,
  signUp,
  sleep,
  tag,
  TEST,
  until,
  visible,
  WAIT,
} from "./lib/app.mjs";
import { startServers, stopServers } from "./lib/app-suite.mjs";
import { askAndWait, currentConversation, searchDialog, shortcutsDialog, SLOW_TEST } from "./lib/everyday.mjs";

/** Chatkeep with the built-in retrieval agent. */
let main;
/** Chatkeep whose agent is `upstream`. */
let slow;
let upstream;

before(async () => {
  ({ main, slow, upstream } = await startServers("main", "slow"));
});

after(() => stopServers({ main, slow, upstream }));

test("keyboard shortcuts open search, start a chat, focus the message box, toggle the sidebar and list themselves", TEST, async (t) => {
  const s = await openContext(t, main, { viewport: { width: 1280, height: 800 } });
  const { page } = s;
  await signUp(page, newUser());
  await askAndWait(page, "How do I install Chatkeep?");
  await currentConversation(page);
  const box = messageBox(page);

  // Ctrl+K, even from the message box.
  await box.focus();
  await page.keyboard.press("Control+k");
  await visible(searchDialog(page));
  await page.keyboard.press("Escape");
  await gone(searchDialog(page));
  await until(() => isFocused(box), "the focus back in the message box");

  // "/" in a text field is just a character…
  await page.keyboard.type("/");
  await sleep(300);
  assert.equal(await searchDialog(page).count(), 0, "typing / in the message box opens nothing");
  assert.equal(await box.inputValue(), "/");
  await box.fill("");
  // …and elsewhere opens search.
  await newChatButton(page).first().focus();
  await page.keyboard.press("Slash");
  await visible(searchDialog(page));
  await page.keyboard.press("Escape");
  await gone(searchDialog(page));
  await until(() => isFocused(newChatButton(page).first()), "the focus back on New chat");

  // Ctrl+Shift+O: a new chat, ready to type in.
  await page.keyboard.press("Control+Shift+O");
  await page.waitForURL((url) => url.pathname === "/", { timeout: WAIT });
  await until(() => isFocused(box), "the focus in the message box of the new chat");
  assert.equal(await articles(page).count(), 0);

  // Shift+Escape: back to the message box from anywhere.
  await page.getByRole("link", { name: "Settings" }).focus();
  await page.keyboard.press("Shift+Escape");
  await until(() => isFocused(box), "the focus in the message box");

  // Ctrl+Shift+S hides and shows the sidebar.
  await page.keyboard.press("Control+Shift+S");
  await gone(history(page));
  await page.keyboard.press("Control+Shift+S");
  await visible(history(page));

  // ? lists the shortcuts (not from a text field, where it is a character).
  await box.focus();
  await page.keyboard.type("?");
  await sleep(300);
  assert.equal(await shortcutsDialog(page).count(), 0, "typing ? in the message box opens nothing");
  assert.equal(await box.inputValue(), "?");
  await box.fill("");
  await newChatButton(page).first().focus();
  await page.keyboard.press("Shift+Slash");
  const shortcuts = shortcutsDialog(page);
  await visible(shortcuts);
  for (const what of ["New chat", "Search", "Focus the message box", "Stop the answer", "Toggle the sidebar", "Keyboard shortcuts"]) {
    await visible(shortcuts.getByText(what));
  }
  await page.keyboard.press("Escape");
  await gone(shortcuts);
  await until(() => isFocused(newChatButton(page).first()), "the focus back on New chat");

  // Ctrl+/ too, from anywhere.
  await box.focus();
  await page.keyboard.press("Control+Slash");
  await visible(shortcuts);
  await page.keyboard.press("Escape");
  await gone(shortcuts);
  await until(() => isFocused(box), "the focus back in the message box");
  assertNoErrors(s);
});

test("on a Mac, Cmd takes Ctrl's place in the shortcuts", TEST, async (t) => {
  const s = await openContext(t, main, { viewport: { width: 1280, height: 800 } });
  const { page } = s;
  // What Chromium on macOS reports; set before the app reads it.
  await s.context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, "platform", { get: () => "MacIntel" });
  });
  await signUp(page, newUser());
  const box = messageBox(page);
  await box.focus();
  // Ctrl+K is a Mac's "delete to the end of the line": it must not open search there.
  await page.keyboard.press("Control+k");
  await sleep(300);
  assert.equal(await searchDialog(page).count(), 0, "Ctrl+K opens nothing on a Mac");
  await page.keyboard.press("Meta+k");
  await visible(searchDialog(page));
  await page.keyboard.press("Escape");
  await gone(searchDialog(page));
  await until(() => isFocused(box), "the focus back in the message box");
  await page.keyboard.press("Meta+/");
  await visible(shortcutsDialog(page));
  await visible(shortcutsDialog(page).getByText("⌘").first());
  await page.keyboard.press("Escape");
  await gone(shortcutsDialog(page));
  assertNoErrors(s);
});

test("Escape stops an answer being written", SLOW_TEST, async (t) => {
  const s = await openContext(t, slow);
  const { page } = s;
  await signUp(page, newUser());
  const question = `Tell me a long story to stop, ${tag()}`;
  await ask(page, question);
  await visible(lastArticle(page).getByText("Slow answer begins"));
  await messageBox(page).focus();
  await page.keyboard.press("Escape");
  await visible(lastArticle(page).getByText("Stopped."));
  await gone(page.getByRole("button", { name: "Stop", exact: true }));
  await until(
    () => upstream.requests.some((r) => r.lastUserMessage === question && r.disconnected),
    "the upstream request to be abandoned",
  );
  assert.ok(!(await lastArticle(page).innerText()).includes("Slow answer ends."), "the answer was cut short");
  assertNoErrors(s);
});
