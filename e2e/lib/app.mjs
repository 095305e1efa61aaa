// Helpers for driving the chat app in real Chromium the way a person uses it: by roles, labels
// and visible text. Shared by every browser test file (app-*.test.mjs, everyday-*.test.mjs, …).
//
// Each test file runs in its own Node process (node --test), so the browser below is that file's
// own: it calls openBrowser() in its `before` and closeBrowser() in its `after`, next to starting
// and stopping its own Chatkeep servers (lib/app-suite.mjs does both for the app-* and everyday-*
// files).
//
// Better Auth allows 3 sign-ins (and 3 sign-ups) per 10 s per client IP. The servers trust
// 127.0.0.1 as a proxy and every browser context sends its own X-Forwarded-For, so each context
// is its own client and the limit never trips across tests.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "./browser.mjs";

/** How long anything may take to appear. Generous: this is about behaviour, not speed. */
export const WAIT = 15_000;
/** How long a slow answer (400 words at 40 ms each, about 16 s) may take to finish. */
export const SLOW_WAIT = 60_000;
export const TEST = { timeout: 120_000 };
export const PASSWORD = "correct horse battery";
export const UUID = /^\/c\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------------------------
// The browser

let browser;

/** Launches this test file's browser (once). */
export async function openBrowser() {
  browser ??= await launchBrowser();
  return browser;
}

export async function closeBrowser() {
  const b = browser;
  browser = undefined;
  await b?.close();
}

// ---------------------------------------------------------------------------------------------
// Helpers

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const tag = () => randomBytes(4).toString("hex");

/** Polls `check` until it returns something truthy; returns that. */
export async function until(check, what, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    }
    await sleep(100);
  }
}

/** Waits until (the first element of) `locator` is visible. */
export async function visible(locator, timeout = WAIT) {
  await locator.first().waitFor({ state: "visible", timeout });
  return locator;
}

export async function gone(locator, timeout = WAIT) {
  await until(async () => (await locator.count()) === 0 || !(await locator.first().isVisible()), `${locator} to go`, timeout);
}

let clients = 0;
/** A client address of its own for each browser context (10.9.0.1, 10.9.0.2, …). */
export function nextClientIp() {
  clients += 1;
  return `10.9.${Math.floor(clients / 250)}.${(clients % 250) + 1}`;
}

/** Console noise that is expected: the browser logging a refused request (401 when signed out,
 * 404 for someone else's conversation, 422 for a taken email…). Server errors still count. */
export function ignorable(text) {
  return /Failed to load resource: the server responded with a status of 4\d\d/.test(text);
}

/**
 * A browser context of its own (own cookies, own client IP) on `server`, closed after the test.
 * Every page it opens has its page errors and console errors collected into `errors`.
 */
export async function openContext(t, server, options = {}) {
  if (!browser) throw new Error("openContext before openBrowser(): launch the browser in `before`");
  const context = await browser.newContext({
    baseURL: server.url,
    ...options,
    extraHTTPHeaders: { "x-forwarded-for": nextClientIp() },
  });
  context.setDefaultTimeout(WAIT);
  const errors = [];
  context.on("page", (page) => {
    page.on("pageerror", (e) => errors.push(`page error on ${page.url()}: ${e.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && !ignorable(message.text())) {
        errors.push(`console error on ${page.url()}: ${message.text()}`);
      }
    });
  });
  t.after(() => context.close());
  const page = await context.newPage();
  return { context, page, errors };
}

export function assertNoErrors(...sessions) {
  assert.deepEqual(
    sessions.flatMap((s) => s.errors),
    [],
    "pages logged errors",
  );
}

/** Drops the errors of `session` that match `pattern` (for a test that causes them on purpose). */
export function forgiveErrors(session, pattern) {
  session.errors.splice(0, session.errors.length, ...session.errors.filter((e) => !pattern.test(e)));
}

export function newUser(name = "Ada") {
  return { name: `${name} ${tag()}`, email: `u-${tag()}${tag()}@example.com`, password: PASSWORD };
}

export const history = (page) => page.getByRole("navigation", { name: "History" });
export const conversationLog = (page) => page.getByRole("log", { name: "Conversation" });
export const articles = (page) => conversationLog(page).getByRole("article");
export const lastArticle = (page) => articles(page).last();
export const messageBox = (page) => page.getByRole("textbox", { name: "Message" });
export const newChatButton = (page) => page.getByRole("button", { name: "New chat" });

export async function fillSignUp(page, { name, email, password }) {
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
}

/** Signs a new user up through the form; returns once the chat is there. */
export async function signUp(page, user) {
  await page.goto("/sign-up");
  await fillSignUp(page, user);
  await visible(newChatButton(page));
  return user;
}

/** Fills in and submits the sign-in form (going to /sign-in unless already there). */
export async function submitSignIn(page, { email, password }) {
  if (!new URL(page.url()).pathname.startsWith("/sign-in")) await page.goto("/sign-in");
  await visible(page.getByRole("heading", { name: "Sign in", exact: true }));
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** Signs in and waits until the app has left the sign-in page. */
export async function signIn(page, user) {
  await submitSignIn(page, user);
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"), { timeout: WAIT });
}

/** Asks a question; returns once both the question and the (possibly unfinished) answer show. */
export async function ask(page, text, { pressEnter = false } = {}) {
  const before = await articles(page).count();
  await messageBox(page).fill(text);
  if (pressEnter) await messageBox(page).press("Enter");
  else await page.getByRole("button", { name: "Send", exact: true }).click();
  await until(async () => (await articles(page).count()) >= before + 2, "the question and its answer to show");
}

/** Waits until no answer is being written and the last answer can be copied. */
export async function waitForAnswerDone(page, timeout = WAIT) {
  await gone(page.getByRole("button", { name: "Stop", exact: true }), timeout);
  await until(async () => (await conversationLog(page).getAttribute("aria-busy", { timeout: 1_000 })) !== "true", "the log to stop being busy", timeout);
  await visible(lastArticle(page).getByRole("button", { name: "Copy", exact: true }), timeout);
}

/** Opens a conversation's menu in History and returns the menu. */
export async function openMenu(page, title) {
  await history(page).getByRole("button", { name: `Options for ${title}`, exact: true }).click();
  const menu = page.getByRole("menu");
  await visible(menu);
  return menu;
}

export function conversationId(page) {
  const { pathname } = new URL(page.url());
  assert.match(pathname, UUID);
  return pathname.slice("/c/".length);
}

/** The conversation's stored messages, read with the page's own session. */
export async function storedMessages(page, id) {
  return page.evaluate(async (id) => {
    const response = await fetch(`/api/conversations/${id}/messages?limit=200`);
    return response.json();
  }, id);
}

/** Whether `locator` (its first element) has the keyboard focus. */
export async function isFocused(locator) {
  return locator.first().evaluate((el) => el === document.activeElement);
}

/** Takes the focus out of any field, as a click on an empty part of the page would. */
export async function focusNothing(page) {
  await page.evaluate(() => {
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  });
}

/**
 * Watches the page's requests, so a test can wait until what the page sent has been answered
 * (say, before a reload that must find a change stored). Streams (text/event-stream) are not
 * waited for. Call before the action whose requests are to be waited for.
 */
export function watchRequests(page) {
  const inflight = new Set();
  let changed = Date.now();
  const streaming = (r) =>
    r.resourceType() === "eventsource" || (r.headers().accept ?? "").includes("text/event-stream");
  page.on("request", (r) => {
    if (streaming(r)) return;
    inflight.add(r);
    changed = Date.now();
  });
  const settle = (r) => {
    if (inflight.delete(r)) changed = Date.now();
  };
  page.on("requestfinished", settle);
  page.on("requestfailed", settle);
  return {
    /** Resolves once no request has been open for `quietMs`. */
    idle: (quietMs = 500) =>
      until(() => inflight.size === 0 && Date.now() - changed >= quietMs, "the page's requests to be answered"),
  };
}

// ---------------------------------------------------------------------------------------------
// Accessibility

const axeSource = fileURLToPath(import.meta.resolve("axe-core/axe.min.js"));

/** axe-core's serious and critical findings on the page as it is now (WCAG 2.1 A and AA).
 * The context needs `bypassCSP: true`: axe-core is injected as an inline script, which the
 * app's CSP (rightly) refuses. */
export async function axeViolations(page) {
  await page.addScriptTag({ path: axeSource });
  const results = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}
