// The chat app in real Chromium against a real Chatkeep and PostgreSQL, driven the way a person
// uses it: by roles, labels and visible text. Answers that are slow, busy or limited: stopped
// midway, a busy assistant and Retry, asking too fast, a regenerated answer.
//
// The servers are lib/app-suite.mjs's; the helpers (contexts of their own with their own client
// IP, sign-up, ask, …) are in lib/app.mjs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  articles,
  ask,
  assertNoErrors,
  conversationId,
  gone,
  lastArticle,
  messageBox,
  newUser,
  openContext,
  signUp,
  storedMessages,
  tag,
  TEST,
  until,
  visible,
  waitForAnswerDone,
} from "./lib/app.mjs";
import { startServers, stopServers } from "./lib/app-suite.mjs";
import { quickAnswerText } from "./lib/fake-upstream.mjs";

/** Chatkeep whose agent is `upstream`. */
let slow;
/** Like `slow`, with one generation slot and two questions a minute per user. */
let limited;
let upstream;

before(async () => {
  ({ slow, limited, upstream } = await startServers("slow", "limited"));
});

after(() => stopServers({ slow, limited, upstream }));

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
