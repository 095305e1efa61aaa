// Everyday use, in real Chromium against a real Chatkeep and PostgreSQL, driven by roles, labels
// and visible text as a person would: searching past chats (the search dialog, archived chats
// and dates) and filtering History.
//
// Each test signs up its own user in its own browser context (own cookies, own client IP).
// The servers are lib/app-suite.mjs's; the helpers of the everyday tests are in lib/everyday.mjs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  assertNoErrors,
  focusNothing,
  gone,
  history,
  isFocused,
  messageBox,
  newUser,
  openContext,
  openMenu,
  signUp,
  storedMessages,
  TEST,
  until,
  visible,
  WAIT,
} from "./lib/app.mjs";
import { startServers, stopServers } from "./lib/app-suite.mjs";
import {
  articleWith,
  askAndWait,
  currentConversation,
  hasClass,
  inView,
  isoDate,
  resultGroup,
  results,
  searchBox,
  searchDialog,
  searchStatus,
  startNewChat,
} from "./lib/everyday.mjs";

/** Chatkeep with the built-in retrieval agent. */
let main;

before(async () => {
  ({ main } = await startServers("main"));
});

after(() => stopServers({ main }));

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
