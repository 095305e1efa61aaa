// How fast the app's history features feel, in real Chromium against a real Chatkeep (run by
// hand through `bench/bench-app.sh`, which builds, seeds and passes SEEDED_DB):
//   (a) search, keypress to results painted, on the seeded heavy user (100,000 messages): the
//       dialog open, a query typed a key at a time; from the last key's keydown to the frame
//       after the results for that query are in the page (the 120 ms debounce included);
//   (b) reattaching after a reload: a slow answer streaming (fake upstream), the page reloaded;
//       from the reload to the first new text of the answer painted.
// Prints p50/p95 and JSON.
import { launchBrowser } from "../lib/browser.mjs";
import { startChatkeep } from "../lib/chatkeep.mjs";
import { startFakeUpstream } from "../lib/fake-upstream.mjs";

const WAIT = 60_000;
const QUERIES = ["password", "cookie header", "retry timeout", "branch", "citation", "cursor page", "status", "limit", "sourc", "err"];
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => Math.round(x * 10) / 10;

async function signIn(page, email, password) {
  await page.goto("/sign-in");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("textbox", { name: "Message" }).waitFor({ timeout: WAIT });
}

async function benchSearch(browser, seededDb) {
  const server = await startChatkeep({ database: seededDb, env: { CHATKEEP_TRUSTED_PROXIES: "127.0.0.1" } });
  try {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    await signIn(page, "seed-heavy-1@example.com", "seeded-password-1234");
    await page.keyboard.press("Control+k");
    const box = page.getByRole("searchbox", { name: "Search your chats" });
    await box.waitFor();
    // The page records each keydown's time, and the frame after the status names a result
    // count for what is in the box.
    await page.evaluate(() => {
      window.__lastKey = 0;
      window.__painted = [];
      document.addEventListener("keydown", () => (window.__lastKey = performance.now()), true);
      const status = document.querySelector(".search-status");
      new MutationObserver(() => {
        const text = status.textContent;
        if (/results?|No results/.test(text)) {
          const key = window.__lastKey;
          requestAnimationFrame(() => window.__painted.push({ text, ms: performance.now() - key }));
        }
      }).observe(status, { childList: true, characterData: true, subtree: true });
    });
    const times = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const query of QUERIES) {
        await box.fill("");
        await page.evaluate(() => (window.__painted = []));
        await box.pressSequentially(query, { delay: 30 });
        const deadline = Date.now() + WAIT;
        let found;
        while (!found && Date.now() < deadline) {
          const painted = await page.evaluate(() => window.__painted);
          // The results of the whole query (the status lists it only once the last answer is in).
          const done = await page.evaluate(
            (q) => document.querySelector(".search-input").value === q && !/Searching/.test(document.querySelector(".search-status").textContent),
            query,
          );
          if (done && painted.length) found = painted[painted.length - 1];
          else await new Promise((r) => setTimeout(r, 20));
        }
        if (!found) throw new Error(`no results painted for ${query}`);
        times.push(found.ms);
      }
    }
    await context.close();
    return { runs: times.length, p50: ms(pct(times, 50)), p95: ms(pct(times, 95)), max: ms(Math.max(...times)) };
  } finally {
    await server.stop();
  }
}

async function benchReattach(browser) {
  const upstream = await startFakeUpstream({ words: 2000, delayMs: 20 });
  const server = await startChatkeep({ env: { CHATKEEP_TRUSTED_PROXIES: "127.0.0.1", AGENT_URL: upstream.url } });
  try {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    await page.goto("/sign-up");
    await page.getByLabel("Name", { exact: true }).fill("Bench");
    await page.getByLabel("Email", { exact: true }).fill(`bench-${Date.now()}@example.com`);
    await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    const box = page.getByRole("textbox", { name: "Message" });
    await box.waitFor();
    const times = [];
    for (let i = 0; i < 10; i++) {
      await box.fill(`Tell me a long story, number ${i}`);
      await box.press("Enter");
      const answer = page.getByRole("log", { name: "Conversation" }).getByRole("article", { name: "Answer" }).last();
      await answer.getByText("word-5 ").first().waitFor().catch(() => answer.getByText(/word-\d+/).first().waitFor());
      const t0 = Date.now();
      await page.reload();
      // The first text past what the page shows after loading: the answer moving again.
      const after = page.getByRole("log", { name: "Conversation" }).getByRole("article", { name: "Answer" }).last();
      await after.waitFor();
      const start = await after.innerText();
      const deadline = Date.now() + WAIT;
      while ((await after.innerText()) === start && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      times.push(Date.now() - t0);
      await page.getByRole("button", { name: "Stop", exact: true }).click();
      await page.getByRole("button", { name: "Stop", exact: true }).waitFor({ state: "detached" });
      await page.getByRole("button", { name: "New chat" }).first().click();
    }
    await context.close();
    return { runs: times.length, p50: pct(times, 50), p95: pct(times, 95), max: Math.max(...times) };
  } finally {
    await server.stop();
    await upstream.close();
  }
}

const browser = await launchBrowser();
try {
  const results = {};
  if (process.env.SEEDED_DB) results.search = await benchSearch(browser, process.env.SEEDED_DB);
  results.reattach = await benchReattach(browser);
  console.log("| what | runs | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|");
  for (const [name, r] of Object.entries(results)) console.log(`| ${name} | ${r.runs} | ${r.p50} | ${r.p95} | ${r.max} |`);
  console.log(JSON.stringify(results));
} finally {
  await browser.close();
}
