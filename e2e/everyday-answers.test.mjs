// Everyday use, in real Chromium against a real Chatkeep and PostgreSQL, driven by roles, labels
// and visible text as a person would: answers that outlive a reload or a dropped network, and
// feedback on an answer.
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
  forgiveErrors,
  lastArticle,
  newChatButton,
  newUser,
  openContext,
  signIn,
  signUp,
  sleep,
  SLOW_WAIT,
  storedMessages,
  tag,
  TEST,
  until,
  visible,
  waitForAnswerDone,
  watchRequests,
} from "./lib/app.mjs";
import { startServers, stopServers } from "./lib/app-suite.mjs";
import { askAndWait, currentConversation, SLOW_TEST, slowAnswerShown } from "./lib/everyday.mjs";
import { slowAnswerText } from "./lib/fake-upstream.mjs";

/** Chatkeep with the built-in retrieval agent. */
let main;
/** Chatkeep whose agent is `upstream`. */
let slow;
let upstream;

before(async () => {
  ({ main, slow, upstream } = await startServers("main", "slow"));
});

after(() => stopServers({ main, slow, upstream }));

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
