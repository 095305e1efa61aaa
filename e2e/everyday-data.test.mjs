// Everyday use, in real Chromium against a real Chatkeep and PostgreSQL, driven by roles, labels
// and visible text as a person would: your data (a conversation's download, export and import of
// everything) and bulk actions on conversations.
//
// Each test signs up its own user in its own browser context (own cookies, own client IP).
// The servers are lib/app-suite.mjs's; the helpers of the everyday tests are in lib/everyday.mjs.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  assertNoErrors,
  gone,
  history,
  newUser,
  openContext,
  openMenu,
  signUp,
  sleep,
  tag,
  TEST,
  visible,
  WAIT,
} from "./lib/app.mjs";
import { startServers, stopServers } from "./lib/app-suite.mjs";
import { askAndWait, selectCheckbox, SLOW_TEST, startNewChat } from "./lib/everyday.mjs";

/** Chatkeep with the built-in retrieval agent. */
let main;

before(async () => {
  ({ main } = await startServers("main"));
});

after(() => stopServers({ main }));

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
