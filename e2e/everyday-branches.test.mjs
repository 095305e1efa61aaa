// Everyday use, in real Chromium against a real Chatkeep and PostgreSQL, driven by roles, labels
// and visible text as a person would: editing a question makes a branch, and the conversation
// remembers the branch in view.
//
// Each test signs up its own user in its own browser context (own cookies, own client IP).
// The servers are lib/app-suite.mjs's (`slow` answers a question with "quick" in it at once);
// the helpers of the everyday tests are in lib/everyday.mjs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  articles,
  assertNoErrors,
  conversationLog,
  gone,
  newChatButton,
  newUser,
  openContext,
  signIn,
  signUp,
  tag,
  TEST,
  until,
  visible,
  waitForAnswerDone,
  watchRequests,
} from "./lib/app.mjs";
import { startServers, stopServers } from "./lib/app-suite.mjs";
import { askAndWait, currentConversation, questionVersions, quickNumber } from "./lib/everyday.mjs";

/** Chatkeep with the built-in retrieval agent. */
let main;
/** Chatkeep whose agent is `upstream`. */
let slow;
let upstream;

before(async () => {
  ({ main, slow, upstream } = await startServers("main", "slow"));
});

after(() => stopServers({ main, slow, upstream }));

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
