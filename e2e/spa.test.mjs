// The SPA shell in real Chromium against a real Chatkeep and PostgreSQL.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { startChatkeep } from "./lib/chatkeep.mjs";

let server;
let browser;

before(async () => {
  server = await startChatkeep();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("the start page renders the server's health from the API", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(server.url + "/");
  const serverStatus = page.getByTestId("server-status");
  await serverStatus.getByText("up").waitFor();
  assert.match(await serverStatus.innerText(), /version \d+\.\d+\.\d+/);
  const database = page.getByTestId("database-status");
  await database.getByText("reachable").waitFor();
  assert.match(await database.innerText(), /migrations applied/);
  if (process.env.SCREENSHOT_DIR) {
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/spa-status.png` });
  }
  assert.deepEqual(errors, []);
});

test("a client-side route survives a reload and unknown pages say so", async () => {
  const page = await browser.newPage();
  await page.goto(server.url + "/status");
  await page.getByTestId("server-status").getByText("up").waitFor();
  await page.goto(server.url + "/no/such/page");
  await page.getByRole("heading", { name: "Page not found" }).waitFor();
});

test("navigation between pages happens without a reload", async () => {
  const page = await browser.newPage();
  await page.goto(server.url + "/no/such/page");
  await page.getByRole("heading", { name: "Page not found" }).waitFor();
  await page.evaluate(() => (window.__marker = "same document"));
  await page.getByRole("link", { name: "Status" }).click();
  await page.getByTestId("server-status").getByText("up").waitFor();
  assert.equal(await page.evaluate(() => window.__marker), "same document");
});
