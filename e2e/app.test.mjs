// The chat app in real Chromium against a real Chatkeep and PostgreSQL, driven the way a person
// uses it: by roles, labels and visible text. Two servers: one with the built-in retrieval agent
// (fast answers with sources), one whose agent is a slow fake OpenAI-compatible upstream, so an
// answer can be watched while it is written and stopped midway.
//
// The helpers (contexts of their own with their own client IP, sign-up, ask, …) are in
// lib/app.mjs, shared with everyday.test.mjs.
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
  closeBrowser,
  conversationId,
  conversationLog,
  fillSignUp,
  focusNothing,
  gone,
  history,
  lastArticle,
  messageBox,
  newChatButton,
  newUser,
  openBrowser,
  openContext,
  openMenu,
  signIn,
  signUp,
  sleep,
  storedMessages,
  submitSignIn,
  tag,
  TEST,
  until,
  UUID,
  visible,
  WAIT,
  waitForAnswerDone,
  watchRequests,
} from "./lib/app.mjs";
import { startChatkeep } from "./lib/chatkeep.mjs";
import { quickAnswerText, startFakeUpstream } from "./lib/fake-upstream.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const screenshotDir = process.env.SCREENSHOT_DIR ?? path.join(root, "target", "screenshots");

/** Chatkeep with the built-in retrieval agent. */
let main;
/** Chatkeep whose agent is `upstream`. */
let slow;
/** Like `slow`, with one generation slot and two questions a minute per user. */
let limited;
let upstream;

before(async () => {
  const env = { CHATKEEP_TRUSTED_PROXIES: "127.0.0.1" };
  upstream = await startFakeUpstream({ words: 400, delayMs: 40 });
  [main, slow, limited] = await Promise.all([
    startChatkeep({ env }),
    startChatkeep({ env: { ...env, AGENT_URL: upstream.url } }),
    startChatkeep({
      env: { ...env, AGENT_URL: upstream.url, AGENT_MAX_CONCURRENCY: "1", MESSAGE_RATE_LIMIT: "2" },
    }),
    openBrowser(),
  ]);
});

after(async () => {
  await closeBrowser();
  await Promise.all([main?.stop(), slow?.stop(), limited?.stop()]);
  await upstream?.close();
});

// ---------------------------------------------------------------------------------------------
// Accounts

test("signing up lands in an empty chat with a friendly empty history", TEST, async (t) => {
  const s = await openContext(t, main);
  await signUp(s.page, newUser());
  assert.equal(new URL(s.page.url()).pathname, "/");
  await visible(history(s.page).getByText("No conversations yet"));
  await visible(messageBox(s.page));
  assert.equal(await s.page.getByRole("article").count(), 0);
  assertNoErrors(s);
});

test("sign-up and sign-in errors show at the field", TEST, async (t) => {
  const first = await openContext(t, main);
  const user = await signUp(first.page, newUser());

  const s = await openContext(t, main);
  let signUpRequests = 0;
  s.page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/auth/sign-up/email") signUpRequests += 1;
  });
  await s.page.goto("/sign-up");
  await fillSignUp(s.page, { ...user, name: "Someone Else" });
  await visible(s.page.getByText(/already exists/i));
  assert.equal(signUpRequests, 1);
  assert.equal(new URL(s.page.url()).pathname, "/sign-up");

  await fillSignUp(s.page, { name: "Short Password", email: `u-${tag()}@example.com`, password: "seven77" });
  await visible(s.page.getByText(/at least 8/i));
  await sleep(300);
  assert.equal(signUpRequests, 1, "a too-short password is refused before anything is sent");
  assert.equal(new URL(s.page.url()).pathname, "/sign-up");

  await s.page.goto("/sign-in");
  await submitSignIn(s.page, { email: user.email, password: "not the password" });
  await visible(s.page.getByText(/invalid email or password/i));
  assert.equal(new URL(s.page.url()).pathname, "/sign-in");
  assertNoErrors(first, s);
});

test("signing out and in again shows the conversations again", TEST, async (t) => {
  const s = await openContext(t, main);
  const user = await signUp(s.page, newUser());
  const question = `How do I sign out, ${tag()}?`;
  await ask(s.page, question);
  await waitForAnswerDone(s.page);

  await s.page.getByRole("button", { name: "Sign out", exact: true }).click();
  await visible(s.page.getByRole("heading", { name: "Sign in", exact: true }));
  await visible(s.page.getByLabel("Email", { exact: true }));
  await visible(s.page.getByLabel("Password", { exact: true }));
  await visible(s.page.getByRole("checkbox", { name: "Remember me" }));

  await signIn(s.page, user);
  await visible(history(s.page).getByRole("link", { name: question, exact: true }));
  assertNoErrors(s);
});

test("a protected page sends a signed-out visitor to sign in and back", TEST, async (t) => {
  const owner = await openContext(t, main);
  const user = await signUp(owner.page, newUser());

  const s = await openContext(t, main);
  await s.page.goto("/settings");
  await s.page.waitForURL((url) => url.pathname === "/sign-in", { timeout: WAIT });
  assert.match(s.page.url(), /[?&]next=%2Fsettings(&|$)/);
  await signIn(s.page, user);
  await s.page.waitForURL((url) => url.pathname === "/settings", { timeout: WAIT });
  await visible(s.page.getByRole("heading", { name: "Profile" }));
  assertNoErrors(owner, s);
});

test("a 401 mid-session sends to sign in and keeps the draft", TEST, async (t) => {
  const s = await openContext(t, main);
  const user = await signUp(s.page, newUser());
  // History has loaded, so the Send below is the first call to meet the missing cookie.
  await visible(history(s.page).getByText("No conversations yet"));
  await s.context.clearCookies();
  const draft = "my precious draft";
  await messageBox(s.page).fill(draft);
  await s.page.getByRole("button", { name: "Send", exact: true }).click();
  await s.page.waitForURL((url) => url.pathname === "/sign-in", { timeout: WAIT });

  await signIn(s.page, user);
  await visible(messageBox(s.page));
  await until(async () => (await messageBox(s.page).inputValue()) === draft, "the draft to be back");
  assertNoErrors(s);
});

test("changing the password with 'sign out other devices' signs the other device out", TEST, async (t) => {
  const a = await openContext(t, main);
  const user = await signUp(a.page, newUser());
  const b = await openContext(t, main);
  await signIn(b.page, user);
  await visible(newChatButton(b.page));

  const newPassword = "battery staple horse correct";
  await a.page.getByRole("link", { name: "Settings" }).click();
  await a.page.getByLabel("Current password", { exact: true }).fill(user.password);
  await a.page.getByLabel("New password", { exact: true }).fill(newPassword);
  await a.page.getByRole("checkbox", { name: "Sign out other devices" }).check();
  await a.page.getByRole("button", { name: "Change password" }).click();
  await visible(a.page.getByText(/password changed/i));

  await b.page.reload();
  await b.page.waitForURL((url) => url.pathname === "/sign-in", { timeout: WAIT });
  await visible(b.page.getByRole("heading", { name: "Sign in", exact: true }));
  await signIn(b.page, { email: user.email, password: newPassword });
  await visible(newChatButton(b.page));

  // The device that changed the password stays signed in.
  await a.page.reload();
  await visible(a.page.getByRole("heading", { name: "Profile" }));
  assert.equal(new URL(a.page.url()).pathname, "/settings");
  assertNoErrors(a, b);
});

test("signing out in one tab signs out the other tabs", TEST, async (t) => {
  const s = await openContext(t, main);
  await signUp(s.page, newUser());
  const other = await s.context.newPage();
  await other.goto("/");
  await visible(newChatButton(other));
  await other.evaluate(() => (window.__marker = "same document"));

  await s.page.getByRole("button", { name: "Sign out", exact: true }).click();
  await visible(s.page.getByRole("heading", { name: "Sign in", exact: true }));
  await visible(other.getByRole("heading", { name: "Sign in", exact: true }));
  assert.equal(await other.evaluate(() => window.__marker), "same document", "the other tab was not reloaded");
  assertNoErrors(s);
});

test("deleting the account signs out and the account is gone", TEST, async (t) => {
  const s = await openContext(t, main);
  const user = await signUp(s.page, newUser());
  await s.page.getByRole("link", { name: "Settings" }).click();
  await s.page.getByLabel("Type your email to confirm").fill(user.email);
  await s.page.getByLabel("Your password").fill(user.password);
  await s.page.getByRole("button", { name: "Delete account", exact: true }).click();
  await s.page.waitForURL((url) => url.pathname === "/sign-in", { timeout: WAIT });
  await visible(s.page.getByText(/account .*deleted/i));

  await submitSignIn(s.page, user);
  await visible(s.page.getByText(/invalid email or password/i));
  assertNoErrors(s);
});

test("settings lists this device's session", TEST, async (t) => {
  const s = await openContext(t, main);
  await signUp(s.page, newUser());
  await s.page.getByRole("link", { name: "Settings" }).click();
  await visible(s.page.getByRole("heading", { name: "Sessions" }));
  await visible(s.page.getByRole("list").getByRole("listitem").filter({ hasText: "This device" }));
  await visible(s.page.getByRole("button", { name: "Sign out of all other devices" }));
  assertNoErrors(s);
});

// ---------------------------------------------------------------------------------------------
// Chat

test("an answer streams in with its sources and the address follows without a reload", TEST, async (t) => {
  const s = await openContext(t, main);
  await signUp(s.page, newUser());
  await s.page.evaluate(() => (window.__marker = "same document"));
  await ask(s.page, "How do I install Chatkeep?");
  await s.page.waitForURL((url) => UUID.test(url.pathname), { timeout: WAIT });
  await waitForAnswerDone(s.page);

  assert.equal(await s.page.evaluate(() => window.__marker), "same document");
  assert.equal(await articles(s.page).count(), 2);
  const answer = lastArticle(s.page);
  assert.ok((await answer.innerText()).trim().length > 20, "the answer has text");
  const sources = answer.getByRole("list", { name: "Sources" });
  await visible(sources);
  assert.ok((await sources.getByRole("listitem").count()) >= 1, "at least one source");
  assertNoErrors(s);
});

test("after a reload the conversation is in History, titled by its first question", TEST, async (t) => {
  const s = await openContext(t, main);
  await signUp(s.page, newUser());
  const question = `Where does Chatkeep keep my data, ${tag()}?`;
  await ask(s.page, question);
  await waitForAnswerDone(s.page);
  const id = conversationId(s.page);

  await s.page.reload();
  const link = history(s.page).getByRole("link", { name: question, exact: true });
  await visible(link);
  assert.equal(new URL(await link.getAttribute("href"), s.page.url()).pathname, `/c/${id}`);
  await until(async () => (await articles(s.page).count()) === 2, "the transcript after the reload");
  await visible(articles(s.page).first().getByText(question));
  assertNoErrors(s);
});

test("rename, pin, archive and delete a conversation through its menu", TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  await signUp(page, newUser());
  const title = `How do I rename things, ${tag()}?`;
  await ask(page, title);
  await waitForAnswerDone(page);
  await visible(history(page).getByRole("link", { name: title, exact: true }));

  // Rename: the whole old title is selected, so typing replaces it.
  let menu = await openMenu(page, title);
  await menu.getByRole("menuitem", { name: "Rename" }).click();
  const editing = await until(
    () =>
      page.evaluate(() => {
        const el = document.activeElement;
        return el instanceof HTMLInputElement
          ? { value: el.value, start: el.selectionStart, end: el.selectionEnd }
          : null;
      }),
    "a focused title field",
  );
  assert.deepEqual(editing, { value: title, start: 0, end: title.length });
  const renamed = `Renamed ${tag()}`;
  await page.keyboard.type(renamed);
  await page.keyboard.press("Enter");
  await visible(history(page).getByRole("link", { name: renamed, exact: true }));
  await gone(history(page).getByRole("link", { name: title, exact: true }));

  // Escape cancels a rename.
  menu = await openMenu(page, renamed);
  await menu.getByRole("menuitem", { name: "Rename" }).click();
  await until(() => page.evaluate(() => document.activeElement instanceof HTMLInputElement), "the title field");
  await page.keyboard.type("Not this title");
  await page.keyboard.press("Escape");
  await visible(history(page).getByRole("link", { name: renamed, exact: true }));
  assert.equal(await history(page).getByRole("link", { name: "Not this title" }).count(), 0);

  // Pin.
  menu = await openMenu(page, renamed);
  await menu.getByRole("menuitem", { name: "Pin", exact: true }).click();
  await visible(history(page).getByRole("heading", { name: "Pinned" }));
  menu = await openMenu(page, renamed);
  await visible(menu.getByRole("menuitem", { name: "Unpin" }));
  await page.keyboard.press("Escape");
  await gone(page.getByRole("menu"));

  // Archive, find it among the archived, unarchive.
  menu = await openMenu(page, renamed);
  await menu.getByRole("menuitem", { name: "Archive", exact: true }).click();
  await gone(history(page).getByRole("link", { name: renamed, exact: true }));
  const archived = page.getByRole("button", { name: "Archived", exact: true });
  await archived.click();
  await visible(history(page).getByRole("link", { name: renamed, exact: true }));
  menu = await openMenu(page, renamed);
  await menu.getByRole("menuitem", { name: "Unarchive" }).click();
  await gone(history(page).getByRole("link", { name: renamed, exact: true }));
  await archived.click();
  await visible(history(page).getByRole("link", { name: renamed, exact: true }));

  // Delete, after confirming.
  menu = await openMenu(page, renamed);
  await menu.getByRole("menuitem", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog");
  await visible(dialog);
  await dialog.getByRole("button", { name: "Delete", exact: true }).click();
  await gone(dialog);
  await gone(history(page).getByRole("link", { name: renamed, exact: true }));
  await page.reload();
  await visible(history(page).getByText("No conversations yet"));
  assert.equal(await history(page).getByRole("link", { name: renamed, exact: true }).count(), 0);
  assertNoErrors(s);
});

test("a slow answer can be stopped midway and stays stopped after a reload", TEST, async (t) => {
  const s = await openContext(t, slow);
  const { page } = s;
  await signUp(page, newUser());
  const question = `Tell me a long story, ${tag()}`;
  await ask(page, question);
  await visible(lastArticle(page).getByText("Slow answer begins"));
  await page.getByRole("button", { name: "Stop", exact: true }).click();
  await visible(lastArticle(page).getByText("Stopped"));
  await gone(page.getByRole("button", { name: "Stop", exact: true }));
  const id = conversationId(page);
  // Chatkeep hung up on the upstream instead of reading the rest.
  await until(
    () => upstream.requests.some((r) => r.lastUserMessage === question && r.disconnected),
    "the upstream request to be abandoned",
  );

  await page.reload();
  await until(async () => (await articles(page).count()) === 2, "the transcript after the reload");
  const answer = lastArticle(page);
  await visible(answer.getByText("Slow answer begins"));
  await visible(answer.getByText("Stopped"));
  const shown = await answer.innerText();
  assert.ok(!shown.includes("Slow answer ends"), "the answer was not written to the end");

  const { items } = await storedMessages(page, id);
  const stored = items.find((m) => m.role === "assistant");
  assert.equal(stored.status, "stopped");
  assert.ok(stored.content.startsWith("Slow answer begins"), stored.content);
  assert.ok(stored.content.length < upstream.fullText.length, "the stored answer is the partial one");
  const lastWord = stored.content.trim().split(/\s+/).pop();
  assert.ok(shown.includes(lastWord), `the page shows the stored text up to ${lastWord}`);
  assertNoErrors(s);
});

test("a busy assistant says so, keeps the question, and Retry sends it once the slot is free", TEST, async (t) => {
  const a = await openContext(t, limited);
  await signUp(a.page, newUser("Alan"));
  await ask(a.page, `Hold the only slot, ${tag()}`);
  await visible(lastArticle(a.page).getByText("Slow answer begins"));

  const b = await openContext(t, limited);
  await signUp(b.page, newUser("Barbara"));
  const question = `Tell me when you are free, ${tag()}`;
  await messageBox(b.page).fill(question);
  await b.page.getByRole("button", { name: "Send", exact: true }).click();
  await visible(b.page.getByRole("alert").getByText(/busy, try again/i));
  assert.equal(await messageBox(b.page).inputValue(), question, "the question is kept");

  await a.page.getByRole("button", { name: "Stop", exact: true }).click();
  await gone(a.page.getByRole("button", { name: "Stop", exact: true }));
  await b.page.getByRole("button", { name: "Retry", exact: true }).click();
  await visible(lastArticle(b.page).getByText("Slow answer begins"));
  await b.page.getByRole("button", { name: "Stop", exact: true }).click();
  await gone(b.page.getByRole("button", { name: "Stop", exact: true }));
  const { items } = await storedMessages(b.page, conversationId(b.page));
  assert.equal(items.filter((m) => m.role === "user").length, 1, "asked once, however often retried");
  // The browser logs the refused request itself; that one 503 is what this test is about.
  const busy = /Failed to load resource: the server responded with a status of 503/;
  b.errors.splice(0, b.errors.length, ...b.errors.filter((e) => !busy.test(e)));
  assertNoErrors(a, b);
});

test("asking too fast says when you can ask again and keeps the question", TEST, async (t) => {
  const s = await openContext(t, limited);
  const { page } = s;
  await signUp(page, newUser());
  for (const n of [1, 2]) {
    await ask(page, `A quick question number ${n}`);
    await waitForAnswerDone(page);
  }
  const third = "A quick question too many";
  await messageBox(page).fill(third);
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await visible(page.getByRole("alert").getByText(/you can ask again in \d+ s/i));
  assert.equal(await messageBox(page).inputValue(), third, "the question is kept");
  assertNoErrors(s);
});

test("a regenerated answer is a sibling that can be switched to and back", TEST, async (t) => {
  const s = await openContext(t, slow);
  const { page } = s;
  await signUp(page, newUser());
  await ask(page, `Give me a quick answer, ${tag()}`);
  await waitForAnswerDone(page);
  /** The number of the quick answer shown, once it is not `not`. */
  const number = (not) =>
    until(async () => {
      const match = (await lastArticle(page).innerText()).match(/Quick answer number (\d+)/);
      return match && Number(match[1]) !== not ? Number(match[1]) : null;
    }, "a (new) quick answer");
  const first = await number();

  await lastArticle(page).getByRole("button", { name: "Regenerate" }).click();
  const counter = (text) => page.getByRole("group").filter({ hasText: text });
  await visible(counter("2 / 2"));
  await waitForAnswerDone(page);
  const second = await number(first);
  assert.equal(await articles(page).count(), 2, "siblings replace each other, they do not stack");

  await page.getByRole("button", { name: "Previous answer" }).click();
  await visible(counter("1 / 2"));
  await visible(lastArticle(page).getByText(quickAnswerText(first)));
  await page.getByRole("button", { name: "Next answer" }).click();
  await visible(counter("2 / 2"));
  await visible(lastArticle(page).getByText(quickAnswerText(second)));

  await page.reload();
  await visible(counter(/[12] \/ 2/));
  if ((await counter("2 / 2").count()) > 0) {
    await visible(lastArticle(page).getByText(quickAnswerText(second)));
    await page.getByRole("button", { name: "Previous answer" }).click();
    await visible(counter("1 / 2"));
    await visible(lastArticle(page).getByText(quickAnswerText(first)));
  } else {
    await visible(lastArticle(page).getByText(quickAnswerText(first)));
    await page.getByRole("button", { name: "Next answer" }).click();
    await visible(counter("2 / 2"));
    await visible(lastArticle(page).getByText(quickAnswerText(second)));
  }
  assertNoErrors(s);
});

test("another user sees none of the first user's conversations", TEST, async (t) => {
  const a = await openContext(t, main);
  await signUp(a.page, newUser("Alice"));
  const question = `What is my secret plan, ${tag()}?`;
  await ask(a.page, question);
  await waitForAnswerDone(a.page);
  const id = conversationId(a.page);
  await visible(history(a.page).getByRole("link", { name: question, exact: true }));

  const b = await openContext(t, main);
  await signUp(b.page, newUser("Bob"));
  await visible(history(b.page).getByText("No conversations yet"));
  assert.equal(await history(b.page).getByRole("link", { name: question }).count(), 0);

  await b.page.goto(`/c/${id}`);
  await visible(b.page.getByText(/not found|no such conversation/i));
  assert.equal(await b.page.getByText(question).count(), 0, "the first user's question is not shown");
  assert.equal(await b.page.getByRole("article").count(), 0);
  assertNoErrors(a, b);
});

test("markup in a message renders as text", TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  const dialogs = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await signUp(page, newUser());
  const img = "<img src=x onerror=alert(1)>";
  const script = "<script>window.__xss=1</script>";
  await ask(page, img);
  await waitForAnswerDone(page);
  await ask(page, script);
  await waitForAnswerDone(page);
  await sleep(500);

  const log = conversationLog(page);
  assert.equal(await log.locator("img").count(), 0, "no img element in the log");
  assert.equal(await log.locator("script").count(), 0, "no script element in the log");
  assert.equal(await page.locator('img[src="x"]').count(), 0, "no injected img anywhere (History included)");
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(dialogs, []);
  assert.ok((await articles(page).nth(0).innerText()).includes(img), "the question shows as typed");
  assert.ok((await articles(page).nth(2).innerText()).includes(script), "the question shows as typed");
  assertNoErrors(s);
});

test("Enter sends and Shift+Enter starts a new line", TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  await signUp(page, newUser());
  const box = messageBox(page);
  await box.click();
  await page.keyboard.type("How do I install");
  await page.keyboard.press("Shift+Enter");
  await page.keyboard.type("Chatkeep?");
  assert.equal(await box.inputValue(), "How do I install\nChatkeep?");
  await sleep(300);
  assert.equal(await page.getByRole("article").count(), 0, "Shift+Enter sent nothing");
  assert.equal(new URL(page.url()).pathname, "/");

  await page.keyboard.press("Enter");
  await until(async () => (await articles(page).count()) === 2, "the question and answer");
  await waitForAnswerDone(page);
  const question = await articles(page).first().innerText();
  assert.ok(question.includes("How do I install") && question.includes("Chatkeep?"), question);
  assert.equal(await box.inputValue(), "");
  assertNoErrors(s);
});

test("an unknown address says so and leads back to the chats", TEST, async (t) => {
  const s = await openContext(t, main);
  await s.page.goto("/no/such/page");
  await visible(s.page.getByRole("heading", { name: "Page not found" }));
  await s.page.getByRole("link", { name: "Go to your chats" }).click();
  await s.page.waitForURL((url) => url.pathname === "/sign-in", { timeout: WAIT });
  assertNoErrors(s);
});

test("the API docs render under their Content-Security-Policy", TEST, async (t) => {
  const s = await openContext(t, main);
  const response = await s.page.goto("/api/docs/");
  assert.match(response.headers()["content-security-policy"], /frame-ancestors 'none'/);
  await visible(s.page.getByText("/api/conversations").first());
  assertNoErrors(s);
});

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
