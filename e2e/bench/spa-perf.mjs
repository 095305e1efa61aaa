// How fast the SPA feels, measured in real Chromium against a real Chatkeep (run by hand:
// `node e2e/bench/spa-perf.mjs`, after building the server and the SPA). Prints a table and JSON:
//   (a) opening a 20-message conversation: goto → first message visible (median of 10);
//   (b) History with 1,000 conversations: first render, and scrolling through every page;
//   (c) a 300-message conversation: opening it, and scrolling up until the first message;
//   (d) a ~20,000-character streamed answer: long tasks while it streams in;
//   and the size of the WASM bundle, raw and gzipped.
// Data is seeded through the API (JSON mode returns the finished exchange), not the UI.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { launchBrowser } from "../lib/browser.mjs";
import { startChatkeep } from "../lib/chatkeep.mjs";
import { slowAnswerText, startFakeUpstream } from "../lib/fake-upstream.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const spaDir = process.env.CHATKEEP_SPA_DIR ?? path.join(root, "dist");
const WAIT = 60_000;
const QUESTIONS = [
  "How do I install Chatkeep?",
  "How do I change my password?",
  "Where is my data stored?",
  "How does streaming work?",
  "How do I archive a conversation?",
  "Which agents can I use?",
  "How do I deploy Chatkeep with Docker?",
  "What does Chatkeep log?",
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const ms = (x) => Math.round(x * 10) / 10;
const sleep = (t) => new Promise((resolve) => setTimeout(resolve, t));

/** A user made through the API, with its cookies for the browser. */
async function apiUser(baseUrl, label) {
  const origin = new URL(baseUrl).origin;
  const email = `bench-${label}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}@example.com`;
  const response = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { origin, "content-type": "application/json" },
    body: JSON.stringify({ name: `Bench ${label}`, email, password: "correct horse battery" }),
  });
  if (response.status !== 200) throw new Error(`sign-up: ${response.status} ${await response.text()}`);
  const cookies = response.headers.getSetCookie().map((line) => {
    const pair = line.split(";")[0];
    const eq = pair.indexOf("=");
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
  });
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  async function call(method, route, body) {
    const res = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { origin, cookie, accept: "application/json", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
    return res.json();
  }
  return {
    email,
    cookies: cookies.map((c) => ({ ...c, url: baseUrl })),
    post: (route, body) => call("POST", route, body),
    get: (route) => call("GET", route),
  };
}

/** A conversation of `exchanges` question/answer pairs, asked one after the other. */
async function seedConversation(user, exchanges, label) {
  const conversation = await user.post("/api/conversations", {});
  for (let i = 1; i <= exchanges; i++) {
    const number = String(i).padStart(3, "0");
    const question = `${label} ${number}: ${QUESTIONS[(i - 1) % QUESTIONS.length]}`;
    await user.post(`/api/conversations/${conversation.id}/messages`, { content: question });
  }
  return conversation.id;
}

async function pool(count, concurrency, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

async function newPage(browser, user, initScript) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(WAIT);
  await context.addCookies(user.cookies);
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  return { context, page };
}

/** Loads the app once (a page with no data), so what follows is measured with the WASM compiled and cached. */
async function warmUp(page, server) {
  await page.goto(`${server.url}/no-such-page`);
  await page.getByRole("heading", { name: "Page not found" }).waitFor({ timeout: WAIT });
  await page.goto("about:blank");
}

const history = (page) => page.getByRole("navigation", { name: "History" });
const articles = (page) => page.getByRole("log", { name: "Conversation" }).getByRole("article");

/** Grows a lazily loaded list by scrolling `edge()` into view until `done()` or it stops growing. */
async function scrollUntil(page, { count, edge, done, quietMs = 10_000 }) {
  let last = -1;
  let grewAt = Date.now();
  let rounds = 0;
  for (;;) {
    if (await done()) return { complete: true, rounds };
    const n = await count();
    if (n !== last) {
      last = n;
      grewAt = Date.now();
    } else if (Date.now() - grewAt > quietMs) {
      return { complete: false, rounds };
    }
    await edge()
      .scrollIntoViewIfNeeded({ timeout: 5_000 })
      .catch(() => {});
    rounds += 1;
    await sleep(50);
  }
}

async function benchTranscript(browser, server) {
  const user = await apiUser(server.url, "transcript");
  const id = await seedConversation(user, 10, "Transcript");
  const { context, page } = await newPage(browser, user);
  const times = [];
  for (let i = 0; i < 10; i++) {
    await page.goto("about:blank");
    const t0 = performance.now();
    await page.goto(`${server.url}/c/${id}`, { waitUntil: "commit" });
    await articles(page).first().waitFor({ state: "visible", timeout: WAIT });
    times.push(performance.now() - t0);
  }
  await context.close();
  return { messages: 20, runs: times.map(ms), medianMs: ms(median(times)) };
}

async function benchSidebar(browser, server) {
  const user = await apiUser(server.url, "sidebar");
  const total = 1000;
  await pool(total, 8, (i) =>
    user.post("/api/conversations", { title: `Conversation ${String(i + 1).padStart(4, "0")} about the docs` }),
  );
  const { context, page } = await newPage(browser, user);
  await warmUp(page, server);
  const links = history(page).getByRole("link");
  const t0 = performance.now();
  await page.goto(`${server.url}/`, { waitUntil: "commit" });
  await links.first().waitFor({ state: "visible", timeout: WAIT });
  const firstRender = performance.now() - t0;
  const firstPage = await links.count();
  const t1 = performance.now();
  const scrolled = await scrollUntil(page, {
    count: () => links.count(),
    edge: () => links.last(),
    done: async () => (await links.count()) >= total,
  });
  const scrollAll = performance.now() - t1;
  const shown = await links.count();
  await context.close();
  return {
    conversations: total,
    firstRenderMs: ms(firstRender),
    linksInFirstRender: firstPage,
    scrollToEndMs: ms(scrollAll),
    linksAtEnd: shown,
    reachedEnd: scrolled.complete,
    totalMs: ms(firstRender + scrollAll),
  };
}

async function benchLongConversation(browser, server) {
  const user = await apiUser(server.url, "long");
  const exchanges = 150;
  const t = performance.now();
  const id = await seedConversation(user, exchanges, "Long");
  const seedMs = performance.now() - t;
  const { context, page } = await newPage(browser, user);
  await warmUp(page, server);
  const t0 = performance.now();
  await page.goto(`${server.url}/c/${id}`, { waitUntil: "commit" });
  await articles(page).first().waitFor({ state: "visible", timeout: WAIT });
  const open = performance.now() - t0;
  const initial = await articles(page).count();
  const top = articles(page).filter({ hasText: "Long 001:" });
  const t1 = performance.now();
  const scrolled = await scrollUntil(page, {
    count: () => articles(page).count(),
    edge: () => articles(page).first(),
    done: async () => (await top.count()) > 0,
  });
  const scrollUp = performance.now() - t1;
  const atTop = await articles(page).count();
  await context.close();
  return {
    messages: exchanges * 2,
    seedMs: ms(seedMs),
    openMs: ms(open),
    articlesWhenOpened: initial,
    scrollToTopMs: ms(scrollUp),
    articlesAtTop: atTop,
    reachedTop: scrolled.complete,
    totalMs: ms(open + scrollUp),
  };
}

const LONG_TASKS = () => {
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: "longtask", buffered: true });
  } catch {
    window.__longTasks = null;
  }
};

async function benchStream(browser) {
  let words = 100;
  while (slowAnswerText(words).length < 20_000) words += 50;
  const upstream = await startFakeUpstream({ words, delayMs: 2 });
  const server = await startChatkeep({
    env: { AGENT_URL: upstream.url, AUTH_RATE_LIMIT: "off", MESSAGE_RATE_LIMIT: "100000" },
  });
  try {
    const user = await apiUser(server.url, "stream");
    const { context, page } = await newPage(browser, user, LONG_TASKS);
    await warmUp(page, server);
    await page.goto(`${server.url}/`);
    const box = page.getByRole("textbox", { name: "Message" });
    await box.waitFor({ state: "visible", timeout: WAIT });
    await box.fill("Tell me everything, at length.");
    const sentAt = await page.evaluate(() => performance.now());
    const t0 = performance.now();
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await articles(page).last().getByText("Slow answer ends").first().waitFor({ state: "visible", timeout: 120_000 });
    const streamed = performance.now() - t0;
    await page.getByRole("button", { name: "Stop", exact: true }).waitFor({ state: "hidden", timeout: WAIT });
    const all = await page.evaluate(() => window.__longTasks);
    await context.close();
    if (all === null) return { answerChars: upstream.fullText.length, error: "longtask entries are not supported" };
    const during = all.filter((e) => e.start >= sentAt);
    const longest = (xs) => ms(Math.max(0, ...xs.map((e) => e.duration)));
    return {
      answerChars: upstream.fullText.length,
      chunks: words + 2,
      streamMs: ms(streamed),
      longTasksWhileStreaming: during.length,
      longestWhileStreamingMs: longest(during),
      totalLongTaskMsWhileStreaming: ms(during.reduce((sum, e) => sum + e.duration, 0)),
      longTasksIncludingStartup: all.length,
      longestIncludingStartupMs: longest(all),
    };
  } finally {
    await server.stop();
    await upstream.close();
  }
}

async function bundleSizes() {
  const assets = path.join(spaDir, "assets");
  const files = (await readdir(assets).catch(() => [])).filter((f) => f.endsWith(".wasm") || f.endsWith(".js"));
  if (!files.some((f) => f.endsWith(".wasm"))) console.error(`no .wasm under ${assets}: build the SPA first`);
  const sizes = {};
  for (const file of files) {
    const bytes = await readFile(path.join(assets, file));
    sizes[file] = { rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
  }
  return sizes;
}

const results = {};
const browser = await launchBrowser();
const server = await startChatkeep({ env: { AUTH_RATE_LIMIT: "off", MESSAGE_RATE_LIMIT: "100000" } });
try {
  results.bundle = await bundleSizes();
  console.error("(a) 20-message conversation…");
  results.transcript = await benchTranscript(browser, server);
  console.error("(b) 1,000 conversations in History…");
  results.sidebar = await benchSidebar(browser, server);
  console.error("(c) 300-message conversation…");
  results.longConversation = await benchLongConversation(browser, server);
  console.error("(d) 20,000-character streamed answer…");
  results.stream = await benchStream(browser);
} finally {
  await browser.close();
  await server.stop();
}

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const rows = [];
for (const [file, { rawBytes, gzipBytes }] of Object.entries(results.bundle)) {
  rows.push({ measure: `bundle ${file}`, value: `${kb(rawBytes)} raw, ${kb(gzipBytes)} gzip -9` });
}
const t = results.transcript;
rows.push({ measure: "(a) open 20-message conversation, median of 10", value: `${t.medianMs} ms` });
rows.push({ measure: "(a) the same, first load (WASM not yet compiled)", value: `${t.runs[0]} ms` });
const s = results.sidebar;
rows.push({ measure: "(b) History first render (1,000 conversations)", value: `${s.firstRenderMs} ms, ${s.linksInFirstRender} links` });
rows.push({
  measure: "(b) History scroll to end",
  value: `${s.scrollToEndMs} ms, ${s.linksAtEnd} links${s.reachedEnd ? "" : " (END NOT REACHED)"}`,
});
const l = results.longConversation;
rows.push({ measure: "(c) open 300-message conversation", value: `${l.openMs} ms, ${l.articlesWhenOpened} messages shown` });
rows.push({
  measure: "(c) scroll up to the first message",
  value: `${l.scrollToTopMs} ms (total ${l.totalMs} ms)${l.reachedTop ? "" : " (TOP NOT REACHED)"}`,
});
const d = results.stream;
rows.push({
  measure: `(d) long tasks streaming ${d.answerChars} chars`,
  value: d.error ?? `${d.longTasksWhileStreaming}, longest ${d.longestWhileStreamingMs} ms (stream took ${d.streamMs} ms)`,
});
const width = Math.max(...rows.map((r) => r.measure.length));
console.log("");
for (const row of rows) console.log(`${row.measure.padEnd(width)}  ${row.value}`);
console.log("");
console.log(JSON.stringify(results, null, 2));
