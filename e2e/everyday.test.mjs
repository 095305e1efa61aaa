// The things people do with Chatkeep every day, in real Chromium against a real Chatkeep and
// PostgreSQL, driven by roles, labels and visible text as a person would: search, edit a question
// (branches), answers that outlive a reload or a dropped network, feedback, export and import,
// bulk actions, the keyboard, the theme, the phone layout and accessibility.
//
// Two servers, started here: `main` with the built-in retrieval agent (fast answers with
// sources) and `slow`, whose agent is a fake OpenAI-compatible upstream writing 400 words at
// 40 ms each (about 16 s an answer; a question with "quick" in it is answered at once).
// Each test signs up its own user in its own browser context (own cookies, own client IP).
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  articles,
  ask,
  assertNoErrors,
  axeViolations,
  closeBrowser,
  conversationLog,
  conversationId,
  focusNothing,
  forgiveErrors,
  gone,
  history,
  isFocused,
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
  SLOW_WAIT,
  storedMessages,
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
import { slowAnswerText, startFakeUpstream } from "./lib/fake-upstream.mjs";

/** For tests that wait for slow answers (about 16 s each), sometimes twice. */
const SLOW_TEST = { timeout: 240_000 };

/** Chatkeep with the built-in retrieval agent. */
let main;
/** Chatkeep whose agent is `upstream`. */
let slow;
let upstream;

before(async () => {
  const env = { CHATKEEP_TRUSTED_PROXIES: "127.0.0.1" };
  upstream = await startFakeUpstream({ words: 400, delayMs: 40 });
  [main, slow] = await Promise.all([
    startChatkeep({ env }),
    startChatkeep({ env: { ...env, AGENT_URL: upstream.url } }),
    openBrowser(),
  ]);
});

after(async () => {
  await closeBrowser();
  await Promise.all([main?.stop(), slow?.stop()]);
  await upstream?.close();
});

// ---------------------------------------------------------------------------------------------
// Helpers of this file

const searchDialog = (page) => page.getByRole("dialog", { name: "Search" });
const searchBox = (page) => searchDialog(page).getByRole("searchbox", { name: "Search your chats" });
const results = (page) => searchDialog(page).getByRole("list", { name: "Results" });
const searchStatus = (page) => searchDialog(page).getByRole("status");
/** The group of results of the conversation titled `title`. */
const resultGroup = (page, title) =>
  results(page)
    .getByRole("listitem")
    .filter({ has: page.getByRole("heading", { level: 3, name: title, exact: true }) });
const shortcutsDialog = (page) => page.getByRole("dialog", { name: "Keyboard shortcuts" });
const questionVersions = (page) => articles(page).first().getByRole("group", { name: "question versions" });
const openHistoryButton = (page) => page.getByRole("button", { name: "Open history" });
const closeHistoryButton = (page) => page.getByRole("button", { name: "Close history" });
const selectCheckbox = (page, title) => page.getByRole("checkbox", { name: `Select ${title}`, exact: true });
const themeRadio = (page, name) =>
  page.getByRole("radiogroup", { name: "Theme" }).getByRole("radio", { name, exact: true });

/** Goes to a new, empty chat through the "New chat" button. */
async function startNewChat(page) {
  await newChatButton(page).first().click();
  await page.waitForURL((url) => url.pathname === "/", { timeout: WAIT });
  await until(async () => (await articles(page).count()) === 0, "an empty chat");
}

async function askAndWait(page, question, timeout = WAIT) {
  await ask(page, question);
  await waitForAnswerDone(page, timeout);
}

/** The id of the conversation on screen, once the address names it. */
async function currentConversation(page) {
  await page.waitForURL((url) => UUID.test(url.pathname), { timeout: WAIT });
  return conversationId(page);
}

/** The (first) article that shows `text`. */
const articleWith = (page, text) => articles(page).filter({ hasText: text }).first();

async function hasClass(locator, name) {
  return ((await locator.getAttribute("class")) ?? "").split(/\s+/).includes(name);
}

/** Whether (some of) the element is inside the window. */
function inView(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.bottom > 0 && r.top < window.innerHeight;
  });
}

/** The slow answer as shown: from its first words to its last, so doubled text shows too. */
function slowAnswerShown(text) {
  const start = text.indexOf("Slow answer begins.");
  const end = text.lastIndexOf("Slow answer ends.");
  assert.ok(start >= 0 && end > start, `the whole slow answer is shown (got ${text.length} characters)`);
  return text.slice(start, end + "Slow answer ends.".length);
}

/** The number of the quick answer `article` shows, once it is not one of `not`. */
function quickNumber(article, not = []) {
  return until(async () => {
    const match = (await article.innerText()).match(/Quick answer number (\d+)/);
    return match && !not.includes(Number(match[1])) ? Number(match[1]) : null;
  }, "a (new) quick answer");
}

/** A date `days` from today, as a date input takes it. */
function isoDate(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** The page's background (the body's, or where it is transparent the root's), dark or not. */
async function darkBackground(page) {
  const found = await page.evaluate(() => {
    for (const el of [document.body, document.documentElement]) {
      const color = getComputedStyle(el).backgroundColor;
      const m = color.match(/rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+)(%?))?\s*\)/);
      if (!m) continue;
      const alpha = m[4] === undefined ? 1 : Number(m[4]) / (m[5] ? 100 : 1);
      if (alpha === 0) continue;
      const [r, g, b] = [m[1], m[2], m[3]].map(Number);
      return { color, luminance: (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 };
    }
    return null;
  });
  assert.ok(found, "the body (or the root) has a background colour");
  return found.luminance < 0.5;
}

const datasetTheme = (page) => page.evaluate(() => document.documentElement.dataset.theme ?? null);

/**
 * Focus moves into `dialog`, and neither Tab nor Shift+Tab (10 times each) takes it out.
 */
async function assertKeepsFocus(page, dialog, what) {
  await until(() => dialog.evaluate((d) => d.contains(document.activeElement)), `the focus to be inside the ${what} dialog`);
  for (const key of [...Array(10).fill("Tab"), ...Array(10).fill("Shift+Tab")]) {
    await page.keyboard.press(key);
    const inside = await dialog.evaluate((d) => d.contains(document.activeElement));
    if (!inside) {
      const on = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120) ?? "nothing");
      assert.fail(`${what}: ${key} took the focus out of the dialog, to ${on}`);
    }
  }
}

/**
 * Adds to `small` every visible button and link inside `container` whose box is under 44×44 px
 * (0.5 px allowed for rounding), and to `checked` the names of all it measured.
 */
async function measureTargets(container, where, checked, small) {
  for (const role of ["button", "link"]) {
    const items = container.getByRole(role);
    const n = await items.count();
    for (let i = 0; i < n; i++) {
      const item = items.nth(i);
      if (!(await item.isVisible())) continue;
      const box = await item.boundingBox();
      // A 1 px box is the visually hidden pattern: nothing anyone can see or touch.
      if (!box || box.width <= 2 || box.height <= 2) continue;
      const name = await item.evaluate((el) => el.getAttribute("aria-label") || el.textContent.trim().replace(/\s+/g, " "));
      checked.push(name);
      if (box.width < 43.5 || box.height < 43.5) {
        small.push(`${where}: ${role} "${name}" is ${box.width.toFixed(1)}×${box.height.toFixed(1)} px`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Search

test("search finds a word in past chats, grouped by conversation, and opens the message highlighted", TEST, async (t) => {
  // Short enough that a long conversation scrolls.
  const s = await openContext(t, main, { viewport: { width: 1280, height: 600 } });
  const { page } = s;
  await signUp(page, newUser());
  const a = { title: "Tell me about wombats", match: "Do quokkas sleep in winter?" };
  await askAndWait(page, a.title);
  await askAndWait(page, a.match);
  a.id = await currentConversation(page);
  await startNewChat(page);
  const b = { title: "What do wombats eat?", match: "Are quokkas related to numbats?" };
  await askAndWait(page, b.title);
  await askAndWait(page, b.match);
  b.id = await currentConversation(page);
  // Long answers after it, so the matching question is far up the transcript.
  for (const question of ["How do I install Chatkeep?", "How do I change my password?", "How do I delete a conversation?"]) {
    await askAndWait(page, question);
  }
  const idOf = async (id, content) => (await storedMessages(page, id)).items.find((m) => m.role === "user" && m.content === content).id;
  a.messageId = await idOf(a.id, a.match);
  b.messageId = await idOf(b.id, b.match);
  if (await inView(articleWith(page, b.match))) {
    t.diagnostic("the matching question is in view anyway; the scrolled-into-view check proves little");
  }

  // From a new chat, through the button in History.
  await startNewChat(page);
  const button = page.getByRole("button", { name: "Search chats" });
  await button.click();
  await visible(searchDialog(page));
  await until(() => isFocused(searchBox(page)), "the focus in the search box");
  assert.equal(await searchDialog(page).getByRole("checkbox", { name: "Include archived" }).isChecked(), false);
  await searchBox(page).fill("quokkas");
  await visible(searchStatus(page).filter({ hasText: /\b2 results\b/ }));
  const groupA = resultGroup(page, a.title);
  const groupB = resultGroup(page, b.title);
  await visible(groupA);
  await visible(groupB);
  // One link per matching message: the other messages of each chat do not match.
  assert.equal(await groupA.getByRole("link").count(), 1);
  assert.equal(await groupB.getByRole("link").count(), 1);
  await visible(groupA.getByRole("link", { name: /Do quokkas sleep in winter/ }));
  const linkB = groupB.getByRole("link", { name: /Are quokkas related to numbats/ });
  await visible(linkB);
  const marks = await results(page).locator("mark").allInnerTexts();
  assert.ok(marks.length >= 2, `the matched words are marked (${JSON.stringify(marks)})`);
  for (const mark of marks) assert.match(mark, /quokka/i, "only the matched word is marked");

  await linkB.click();
  await gone(searchDialog(page));
  // The address names the message (the app may tidy it away afterwards).
  await page.waitForURL((url) => url.pathname === `/c/${b.id}` && url.searchParams.get("m") === b.messageId, { timeout: WAIT });
  const target = articleWith(page, b.match);
  await until(() => hasClass(target, "highlighted"), "the message to be highlighted");
  await until(() => inView(target), "the message to be scrolled into view");
  await until(async () => !(await hasClass(target, "highlighted")), "the highlight to fade");

  // Ctrl+K from the message box; Enter on a result.
  await messageBox(page).focus();
  await page.keyboard.press("Control+k");
  await visible(searchDialog(page));
  await searchBox(page).fill("quokkas");
  const linkA = resultGroup(page, a.title).getByRole("link", { name: /Do quokkas sleep in winter/ });
  await visible(linkA);
  await linkA.focus();
  await page.keyboard.press("Enter");
  await gone(searchDialog(page));
  await page.waitForURL((url) => url.pathname === `/c/${a.id}` && url.searchParams.get("m") === a.messageId, { timeout: WAIT });
  await until(() => hasClass(articleWith(page, a.match), "highlighted"), "the message to be highlighted");

  // Nothing found.
  await page.keyboard.press("Control+k");
  await visible(searchDialog(page));
  await searchBox(page).fill("xylophonics");
  await visible(searchStatus(page).filter({ hasText: /No results for .xylophonics./ }));
  assert.equal(await results(page).getByRole("link").count(), 0);

  // Escape closes it and gives the focus back.
  await page.keyboard.press("Escape");
  await gone(searchDialog(page));
  await button.click();
  await visible(searchDialog(page));
  await page.keyboard.press("Escape");
  await gone(searchDialog(page));
  await until(() => isFocused(button), "the focus back on Search chats");
  assertNoErrors(s);
});

test("search leaves archived chats out unless asked, and keeps to the dates given", TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  await signUp(page, newUser());
  const kept = "Where do capybaras swim?";
  const archived = "Do capybaras like oranges?";
  await askAndWait(page, kept);
  await startNewChat(page);
  await askAndWait(page, archived);
  const menu = await openMenu(page, archived);
  await menu.getByRole("menuitem", { name: "Archive", exact: true }).click();
  await gone(history(page).getByRole("link", { name: archived, exact: true }));

  await focusNothing(page);
  await page.keyboard.press("Control+k");
  await visible(searchDialog(page));
  const include = searchDialog(page).getByRole("checkbox", { name: "Include archived" });
  assert.equal(await include.isChecked(), false);
  await searchBox(page).fill("capybaras");
  await visible(resultGroup(page, kept));
  await visible(searchStatus(page).filter({ hasText: /\d+ results?/ }));
  assert.equal(await resultGroup(page, archived).count(), 0, "the archived chat is left out");
  await include.click();
  assert.equal(await include.isChecked(), true);
  await visible(resultGroup(page, archived));
  await visible(resultGroup(page, kept));
  await include.click();
  await gone(resultGroup(page, archived));

  const from = searchDialog(page).getByLabel("From", { exact: true });
  const to = searchDialog(page).getByLabel("To", { exact: true });
  await from.fill(isoDate(2));
  await visible(searchStatus(page).filter({ hasText: /No results/ }));
  await gone(resultGroup(page, kept));
  await from.fill(isoDate(-2));
  await visible(resultGroup(page, kept));
  await to.fill(isoDate(-1));
  await visible(searchStatus(page).filter({ hasText: /No results/ }));
  await to.fill("");
  await from.fill("");
  await visible(resultGroup(page, kept));
  assertNoErrors(s);
});

test("the History filter and the search dialog narrow the list to matching titles", TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  await signUp(page, newUser());
  const wombats = "What do wombats eat?";
  const quokkas = "Where do quokkas live?";
  await askAndWait(page, wombats);
  await startNewChat(page);
  await askAndWait(page, quokkas);
  await visible(history(page).getByRole("link", { name: wombats, exact: true }));
  await visible(history(page).getByRole("link", { name: quokkas, exact: true }));

  const filter = page.getByRole("searchbox", { name: "Filter conversations" });
  const asked = page.waitForRequest((r) => {
    const url = new URL(r.url());
    return url.pathname === "/api/conversations" && url.searchParams.get("q") === "wombats";
  });
  await filter.fill("wombats");
  await asked; // the server does the filtering
  await gone(history(page).getByRole("link", { name: quokkas, exact: true }));
  await visible(history(page).getByRole("link", { name: wombats, exact: true }));

  await filter.fill("platypus");
  await visible(page.getByText("No conversations match"));
  await gone(history(page).getByRole("link", { name: wombats, exact: true }));

  await filter.fill("");
  await visible(history(page).getByRole("link", { name: wombats, exact: true }));
  await visible(history(page).getByRole("link", { name: quokkas, exact: true }));
  await gone(page.getByText("No conversations match"));

  // Typing in the search dialog filters History too, and the filter stays when it closes…
  await messageBox(page).focus();
  await page.keyboard.press("Control+k");
  await visible(searchDialog(page));
  await searchBox(page).fill("quokkas");
  await visible(resultGroup(page, quokkas));
  await page.keyboard.press("Escape");
  await gone(searchDialog(page));
  assert.equal(await filter.inputValue(), "quokkas");
  await gone(history(page).getByRole("link", { name: wombats, exact: true }));
  await visible(history(page).getByRole("link", { name: quokkas, exact: true }));
  // …until a result is opened: then History shows everything, the chosen one among them.
  await page.keyboard.press("Control+k");
  await visible(searchDialog(page));
  await searchBox(page).fill("wombats");
  await resultGroup(page, wombats).getByRole("link").first().click();
  await gone(searchDialog(page));
  assert.equal(await filter.inputValue(), "");
  await visible(history(page).getByRole("link", { name: wombats, exact: true }));
  await visible(history(page).getByRole("link", { name: quokkas, exact: true }));
  assertNoErrors(s);
});

// ---------------------------------------------------------------------------------------------
// Branches

test("an edited question is a new branch with its own answer, and the chat remembers the branch in view", TEST, async (t) => {
  const s = await openContext(t, slow);
  const { page } = s;
  const user = await signUp(page, newUser());
  const first = `Give me a quick answer about apples, ${tag()}`;
  const second = `And a quick one about plums, ${tag()}`;
  const edited = `Give me a quick answer about pears, ${tag()}`;
  await askAndWait(page, first);
  const n1 = await quickNumber(articles(page).nth(1));
  await askAndWait(page, second);
  const n2 = await quickNumber(articles(page).nth(3), [n1]);
  const id = await currentConversation(page);

  // Cancel leaves the question as it was.
  await articles(page).first().getByRole("button", { name: "Edit", exact: true }).click();
  const editor = page.getByRole("textbox", { name: "Edit your message" });
  await visible(editor);
  assert.equal(await editor.inputValue(), first, "the editor starts with the question");
  await page.getByRole("button", { name: "Cancel", exact: true }).click();
  await gone(editor);
  await visible(articles(page).first().getByText(first));
  assert.equal(await articles(page).count(), 4);
  assert.equal(await questionVersions(page).count(), 0, "no versions before an edit");

  // Send edit: a sibling question with its own answer; what followed the original is not shown.
  await articles(page).first().getByRole("button", { name: "Edit", exact: true }).click();
  await visible(editor);
  await editor.fill(edited);
  await page.getByRole("button", { name: "Send edit", exact: true }).click();
  await visible(questionVersions(page).getByText("2 / 2"));
  await until(async () => (await articles(page).count()) === 2, "the edited question and its answer alone");
  await waitForAnswerDone(page);
  await visible(articles(page).first().getByText(edited));
  const n3 = await quickNumber(articles(page).nth(1), [n1, n2]);

  // Back to the original branch, with its answers.
  const requests = watchRequests(page);
  await questionVersions(page).getByRole("button", { name: "Previous question" }).click();
  await visible(questionVersions(page).getByText("1 / 2"));
  const showsOriginal = async (p) => {
    await until(async () => (await articles(p).count()) === 4, "the original branch, four messages");
    await visible(articles(p).nth(0).getByText(first));
    assert.match(await articles(p).nth(1).innerText(), new RegExp(`Quick answer number ${n1}\\b`));
    await visible(articles(p).nth(2).getByText(second));
    assert.match(await articles(p).nth(3).innerText(), new RegExp(`Quick answer number ${n2}\\b`));
  };
  const showsEdited = async (p) => {
    await visible(questionVersions(p).getByText("2 / 2"));
    await until(async () => (await articles(p).count()) === 2, "the edited branch, two messages");
    await visible(articles(p).nth(0).getByText(edited));
    assert.match(await articles(p).nth(1).innerText(), new RegExp(`Quick answer number ${n3}\\b`));
  };
  await showsOriginal(page);

  // Remembered across a reload…
  await requests.idle();
  await page.reload();
  await visible(questionVersions(page).getByText("1 / 2"));
  await showsOriginal(page);

  // …and on another device.
  await questionVersions(page).getByRole("button", { name: "Next question" }).click();
  await showsEdited(page);
  await requests.idle();
  const other = await openContext(t, slow);
  await signIn(other.page, user);
  await other.page.goto(`/c/${id}`);
  await showsEdited(other.page);
  await page.reload();
  await showsEdited(page);
  assertNoErrors(s, other);
});

test("a remembered branch opens even when the newest page holds none of it", TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  await signUp(page, newUser());
  await visible(newChatButton(page));
  // Branch A is one exchange; branch B (its question edited) goes on for 30 more, so the
  // newest page of 50 messages holds only B. A is then the branch in view, as if chosen
  // on another device.
  const original = `How do I install Chatkeep? ${tag()}`;
  const { id, leafA } = await page.evaluate(async (original) => {
    const call = async (method, url, body) => {
      const response = await fetch(url, {
        method,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
      return response.json();
    };
    const { id } = await call("POST", "/api/conversations", {});
    const messages = `/api/conversations/${id}/messages`;
    const a = await call("POST", messages, { content: original });
    await call("POST", messages, { content: "How do I export my data?", editOf: a.userMessage.id });
    for (let i = 0; i < 30; i++) await call("POST", messages, { content: `Follow-up ${i}` });
    await call("PATCH", `/api/conversations/${id}`, { activeMessageId: a.assistantMessage.id });
    return { id, leafA: a.assistantMessage.id };
  }, original);
  assert.ok(leafA);

  await page.goto(`/c/${id}`);
  await visible(questionVersions(page).getByText("1 / 2"));
  await until(async () => (await articles(page).count()) === 2, "branch A alone, two messages");
  await visible(articles(page).first().getByText(original));
  await gone(conversationLog(page).getByText("Follow-up 29"));
  assertNoErrors(s);
});

// ---------------------------------------------------------------------------------------------
// Answers that outlive the page

test("an answer being written goes on after a reload, and another device follows it to the end", SLOW_TEST, async (t) => {
  const a = await openContext(t, slow);
  const user = await signUp(a.page, newUser());
  const b = await openContext(t, slow);
  await signIn(b.page, user);
  await visible(newChatButton(b.page));

  const question = `Tell me a long story, ${tag()}`;
  await ask(a.page, question);
  await visible(lastArticle(a.page).getByText("Slow answer begins"));
  const id = await currentConversation(a.page);

  // The other device opens it while it is written.
  await b.page.goto(`/c/${id}`);
  await until(async () => (await articles(b.page).count()) === 2, "the transcript on the other device");
  await visible(lastArticle(b.page).getByText("Slow answer begins"), SLOW_WAIT);
  if ((await lastArticle(b.page).innerText()).includes("Slow answer ends.")) {
    t.diagnostic("the other device opened the chat only after the answer was finished");
  }

  await a.page.reload();
  await until(async () => (await articles(a.page).count()) === 2, "the transcript after the reload");
  await visible(lastArticle(a.page).getByText("Slow answer begins"));
  const afterReload = await lastArticle(a.page).innerText();
  if (!afterReload.includes("Slow answer ends.")) {
    await until(
      async () => (await lastArticle(a.page).innerText()).length > afterReload.length,
      "the answer to keep growing after the reload",
      SLOW_WAIT,
    );
  }
  await waitForAnswerDone(a.page, SLOW_WAIT);
  await waitForAnswerDone(b.page, SLOW_WAIT);

  const shownA = slowAnswerShown(await lastArticle(a.page).innerText());
  const shownB = slowAnswerShown(await lastArticle(b.page).innerText());
  assert.equal(shownA, slowAnswerText(400), "the reloaded page shows the whole answer, once");
  assert.equal(shownB, shownA, "both devices show the same answer");
  assert.ok(!(await lastArticle(a.page).innerText()).includes("Stopped"), "the reload did not stop it");
  const stored = (await storedMessages(a.page, id)).items.find((m) => m.role === "assistant");
  assert.equal(stored.status, "complete");
  assert.equal(stored.content, slowAnswerText(400));
  assertNoErrors(a, b);
});

test("an answer goes on through a short loss of the network, without a reload", SLOW_TEST, async (t) => {
  const s = await openContext(t, slow);
  const { page } = s;
  await signUp(page, newUser());
  await page.evaluate(() => (window.__marker = "same document"));
  await ask(page, `Tell me a story through a tunnel, ${tag()}`);
  await visible(lastArticle(page).getByText("Slow answer begins"));

  await s.context.setOffline(true);
  await sleep(2_000);
  await s.context.setOffline(false);

  await waitForAnswerDone(page, SLOW_WAIT);
  assert.equal(slowAnswerShown(await lastArticle(page).innerText()), slowAnswerText(400));
  assert.equal(await page.evaluate(() => window.__marker), "same document", "the page was not reloaded");
  // The browser logs the requests the lost network broke; that is what this test is about.
  forgiveErrors(s, /Failed to load resource: net::ERR_|net::ERR_INTERNET_DISCONNECTED/);
  assertNoErrors(s);
});

// ---------------------------------------------------------------------------------------------
// Feedback

test("an answer takes a thumbs up or down, a reason, and keeps them after a reload", TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  await signUp(page, newUser());
  await askAndWait(page, "How do I install Chatkeep?");
  const id = await currentConversation(page);
  const good = lastArticle(page).getByRole("button", { name: "Good answer", exact: true });
  const bad = lastArticle(page).getByRole("button", { name: "Bad answer", exact: true });
  const reason = page.getByRole("textbox", { name: "What was wrong? (optional)" });
  const pressed = (g, b) =>
    until(
      async () => (await good.getAttribute("aria-pressed")) === g && (await bad.getAttribute("aria-pressed")) === b,
      `Good answer pressed=${g} and Bad answer pressed=${b}`,
    );
  const requests = watchRequests(page);
  /** Reloads once what was pressed has been saved. */
  const reload = async () => {
    await requests.idle();
    await page.reload();
    await until(async () => (await articles(page).count()) === 2, "the transcript after the reload");
    await waitForAnswerDone(page);
  };

  await pressed("false", "false");
  await good.click();
  await pressed("true", "false");
  assert.equal(await reason.count(), 0, "no reason is asked for a thumbs up");
  await good.click();
  await pressed("false", "false");

  await bad.click();
  await pressed("false", "true");
  await visible(reason);
  const why = `It quoted the wrong page ${tag()}`;
  await reason.fill(why);
  await page.getByRole("button", { name: "Send reason", exact: true }).click();
  await visible(page.getByText("Thanks for your feedback"));
  await reload();
  await pressed("false", "true");
  const stored = (await storedMessages(page, id)).items.find((m) => m.role === "assistant");
  assert.equal(stored.feedback?.rating, "down");
  assert.equal(stored.feedback?.reason, why);

  await bad.click();
  await pressed("false", "false");
  await reload();
  await pressed("false", "false");

  await good.click();
  await pressed("true", "false");
  await reload();
  await pressed("true", "false");
  assertNoErrors(s);
});

// ---------------------------------------------------------------------------------------------
// Your data

test("a conversation downloads as Markdown and as JSON from its menu", TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  await signUp(page, newUser());
  const question = `How do I keep a copy of this chat ${tag()}`;
  await askAndWait(page, question);
  await visible(history(page).getByRole("link", { name: question, exact: true }));

  for (const [item, extension] of [
    ["Export as Markdown", ".md"],
    ["Export as JSON", ".json"],
  ]) {
    const menu = await openMenu(page, question);
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: WAIT }),
      menu.getByRole("menuitem", { name: item, exact: true }).click(),
    ]);
    assert.ok(download.suggestedFilename().endsWith(extension), `${item}: ${download.suggestedFilename()}`);
    const text = await readFile(await download.path(), "utf8");
    assert.ok(text.includes(question), `${item}: the file holds the question`);
    if (extension === ".json") JSON.parse(text);
    await gone(page.getByRole("menu"));
  }
  assertNoErrors(s);
});

test("all my data downloads as one file another account imports; a wrong file is refused with the reason", SLOW_TEST, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "chatkeep-e2e-"));
  t.after(() => rm(dir, { recursive: true, force: true }));

  const a = await openContext(t, main);
  await signUp(a.page, newUser("Ada"));
  const titles = [`Where are my exports kept ${tag()}`, `Can I bring my chats along ${tag()}`];
  for (const [i, title] of titles.entries()) {
    if (i > 0) await startNewChat(a.page);
    await askAndWait(a.page, title);
  }
  for (const title of titles) await visible(history(a.page).getByRole("link", { name: title, exact: true }));
  await a.page.getByRole("link", { name: "Settings" }).click();
  await visible(a.page.getByRole("heading", { name: "Your data" }));
  const [all] = await Promise.all([
    a.page.waitForEvent("download", { timeout: WAIT }),
    a.page.getByRole("link", { name: "Export all my data" }).click(),
  ]);
  assert.ok(all.suggestedFilename().endsWith(".json"), all.suggestedFilename());
  const file = path.join(dir, "chatkeep-export.json");
  await all.saveAs(file);
  const text = await readFile(file, "utf8");
  assert.ok(text.includes('"chatkeep.export"'), "the file says what it is");
  JSON.parse(text);
  for (const title of titles) assert.ok(text.includes(title), `the export holds ${title}`);

  const b = await openContext(t, main);
  const { page } = b;
  await signUp(page, newUser("Bea"));
  await visible(history(page).getByText("No conversations yet"));
  await page.getByRole("link", { name: "Settings" }).click();
  await visible(page.getByRole("heading", { name: "Your data" }));
  const input = page.getByLabel("Import a file").and(page.locator('input[type="file"]'));

  // A file dropped on the zone (as a file manager would) is taken like a picked one.
  const dropped = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['{"hello":1}'], "not-an-export.json", { type: "application/json" }));
    return transfer;
  });
  const asked = page.waitForRequest((r) => new URL(r.url()).pathname === "/api/me/import");
  await page.getByText("drop a file here").dispatchEvent("drop", { dataTransfer: dropped });
  await asked;
  await visible(page.getByRole("alert").filter({ hasText: /not an export|refused|Could not import/i }));
  for (const title of titles) assert.equal(await history(page).getByRole("link", { name: title }).count(), 0);

  // The upload is held back a moment at the network, so its progress can be seen.
  const isImport = (url) => url.pathname === "/api/me/import";
  await page.route(isImport, async (route) => {
    await sleep(1_500);
    await route.continue();
  });
  await input.setInputFiles(file);
  await visible(page.getByRole("progressbar", { name: "Upload progress" }));
  await visible(page.getByRole("status").filter({ hasText: /Imported 2 conversations/ }));
  await page.unroute(isImport);
  for (const title of titles) await visible(history(page).getByRole("link", { name: title, exact: true }));
  assertNoErrors(a, b);
});

// ---------------------------------------------------------------------------------------------
// Bulk actions

test("select a range of conversations with click and shift-click, then delete or archive them together", SLOW_TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  await signUp(page, newUser());
  const titles = [];
  for (let n = 1; n <= 5; n++) {
    if (n > 1) await startNewChat(page);
    const title = `Bulk question number ${n}, ${tag()}`;
    await askAndWait(page, title);
    titles.push(title);
  }
  const link = (title) => history(page).getByRole("link", { name: title, exact: true });
  for (const title of titles) await visible(link(title));
  // As History shows them, top to bottom.
  const tops = new Map();
  for (const title of titles) tops.set(title, (await link(title).boundingBox()).y);
  const shown = [...titles].sort((x, y) => tops.get(x) - tops.get(y));

  await page.getByRole("button", { name: "Select", exact: true }).click();
  for (const title of shown) await visible(selectCheckbox(page, title));
  await selectCheckbox(page, shown[1]).click();
  await visible(page.getByText("1 selected"));
  await selectCheckbox(page, shown[3]).click({ modifiers: ["Shift"] });
  await visible(page.getByText("3 selected"));
  for (const [i, title] of shown.entries()) {
    assert.equal(await selectCheckbox(page, title).isChecked(), i >= 1 && i <= 3, `${title} selected`);
  }
  await visible(page.getByRole("button", { name: "Archive selected" }));

  // Cancel first: nothing goes.
  await page.getByRole("button", { name: "Delete selected" }).click();
  let confirm = page.getByRole("dialog", { name: /Delete 3 conversations\?/ });
  await visible(confirm);
  await confirm.getByRole("button", { name: "Cancel", exact: true }).click();
  await gone(confirm);
  for (const title of shown) await visible(selectCheckbox(page, title));

  await page.getByRole("button", { name: "Delete selected" }).click();
  confirm = page.getByRole("dialog", { name: /Delete 3 conversations\?/ });
  await visible(confirm);
  await confirm.getByRole("button", { name: "Delete", exact: true }).click();
  await gone(confirm);
  const deleted = shown.slice(1, 4);
  const remain = [shown[0], shown[4]];
  for (const title of deleted) await gone(selectCheckbox(page, title));
  for (const title of remain) await visible(selectCheckbox(page, title));

  // Done leaves select mode.
  await page.getByRole("button", { name: "Done", exact: true }).click();
  for (const title of remain) await gone(selectCheckbox(page, title));
  for (const title of remain) await visible(link(title));
  for (const title of deleted) await gone(link(title));
  await page.reload();
  for (const title of remain) await visible(link(title));
  for (const title of deleted) assert.equal(await link(title).count(), 0, `${title} stays deleted`);

  // Archive the two left.
  await page.getByRole("button", { name: "Select", exact: true }).click();
  await selectCheckbox(page, remain[0]).click();
  await selectCheckbox(page, remain[1]).click();
  await visible(page.getByText("2 selected"));
  await page.getByRole("button", { name: "Archive selected" }).click();
  for (const title of remain) await gone(selectCheckbox(page, title));
  const done = page.getByRole("button", { name: "Done", exact: true });
  if (await done.isVisible()) await done.click();
  for (const title of remain) await gone(link(title));
  await page.getByRole("button", { name: "Archived", exact: true }).click();
  for (const title of remain) await visible(link(title));
  assertNoErrors(s);
});

// ---------------------------------------------------------------------------------------------
// Keyboard

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

// ---------------------------------------------------------------------------------------------
// Accessibility

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

// ---------------------------------------------------------------------------------------------
// Parts loaded on demand

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
