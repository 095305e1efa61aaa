// The helpers of the everyday tests (everyday-*.test.mjs): the search dialog, the keyboard
// shortcuts, question versions, History on a phone, the theme, dialogs that keep the focus,
// touch targets, and the answers the fake upstream writes (lib/fake-upstream.mjs).
import assert from "node:assert/strict";
import { articles, ask, conversationId, newChatButton, until, UUID, WAIT, waitForAnswerDone } from "./app.mjs";

/** For tests that wait for slow answers (about 16 s each), sometimes twice. */
export const SLOW_TEST = { timeout: 240_000 };

export const searchDialog = (page) => page.getByRole("dialog", { name: "Search" });
export const searchBox = (page) => searchDialog(page).getByRole("searchbox", { name: "Search your chats" });
export const results = (page) => searchDialog(page).getByRole("list", { name: "Results" });
export const searchStatus = (page) => searchDialog(page).getByRole("status");
/** The group of results of the conversation titled `title`. */
export const resultGroup = (page, title) =>
  results(page)
    .getByRole("listitem")
    .filter({ has: page.getByRole("heading", { level: 3, name: title, exact: true }) });
export const shortcutsDialog = (page) => page.getByRole("dialog", { name: "Keyboard shortcuts" });
export const questionVersions = (page) => articles(page).first().getByRole("group", { name: "question versions" });
export const openHistoryButton = (page) => page.getByRole("button", { name: "Open history" });
export const closeHistoryButton = (page) => page.getByRole("button", { name: "Close history" });
export const selectCheckbox = (page, title) => page.getByRole("checkbox", { name: `Select ${title}`, exact: true });
export const themeRadio = (page, name) =>
  page.getByRole("radiogroup", { name: "Theme" }).getByRole("radio", { name, exact: true });

/** Goes to a new, empty chat through the "New chat" button. */
export async function startNewChat(page) {
  await newChatButton(page).first().click();
  await page.waitForURL((url) => url.pathname === "/", { timeout: WAIT });
  await until(async () => (await articles(page).count()) === 0, "an empty chat");
}

export async function askAndWait(page, question, timeout = WAIT) {
  await ask(page, question);
  await waitForAnswerDone(page, timeout);
}

/** The id of the conversation on screen, once the address names it. */
export async function currentConversation(page) {
  await page.waitForURL((url) => UUID.test(url.pathname), { timeout: WAIT });
  return conversationId(page);
}

/** The (first) article that shows `text`. */
export const articleWith = (page, text) => articles(page).filter({ hasText: text }).first();

export async function hasClass(locator, name) {
  return ((await locator.getAttribute("class")) ?? "").split(/\s+/).includes(name);
}

/** Whether (some of) the element is inside the window. */
export function inView(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.bottom > 0 && r.top < window.innerHeight;
  });
}

/** The slow answer as shown: from its first words to its last, so doubled text shows too. */
export function slowAnswerShown(text) {
  const start = text.indexOf("Slow answer begins.");
  const end = text.lastIndexOf("Slow answer ends.");
  assert.ok(start >= 0 && end > start, `the whole slow answer is shown (got ${text.length} characters)`);
  return text.slice(start, end + "Slow answer ends.".length);
}

/** The number of the quick answer `article` shows, once it is not one of `not`. */
export function quickNumber(article, not = []) {
  return until(async () => {
    const match = (await article.innerText()).match(/Quick answer number (\d+)/);
    return match && !not.includes(Number(match[1])) ? Number(match[1]) : null;
  }, "a (new) quick answer");
}

/** A date `days` from today, as a date input takes it. */
export function isoDate(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** The page's background (the body's, or where it is transparent the root's), dark or not. */
export async function darkBackground(page) {
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

export const datasetTheme = (page) => page.evaluate(() => document.documentElement.dataset.theme ?? null);

/**
 * Focus moves into `dialog`, and neither Tab nor Shift+Tab (10 times each) takes it out.
 */
export async function assertKeepsFocus(page, dialog, what) {
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
export async function measureTargets(container, where, checked, small) {
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
