// A person's journey on the docker compose stack (scripts/compose-check.sh runs this file against
// http://localhost:8080; it is not part of `npm test`): sign up, ask, the answer streams in with
// its sources, reload, History, sign out and in.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  assertNoErrors,
  ask,
  closeBrowser,
  history,
  lastArticle,
  newUser,
  openBrowser,
  openContext,
  signIn,
  signUp,
  tag,
  TEST,
  UUID,
  visible,
  waitForAnswerDone,
} from "../lib/app.mjs";

const server = { url: process.env.COMPOSE_URL ?? "http://localhost:8080" };

before(openBrowser);
after(closeBrowser);

test("sign up, ask, reload, History, sign out and in: the compose stack serves the whole app", TEST, async (t) => {
  const s = await openContext(t, server);
  const user = await signUp(s.page, newUser("Compose"));

  const question = `How do I export my conversations, ${tag()}?`;
  const streamed = s.page.waitForResponse(
    (r) => r.request().method() === "POST" && /\/api\/conversations\/[^/]+\/messages$/.test(new URL(r.url()).pathname),
  );
  await ask(s.page, question);
  const response = await streamed;
  assert.match(response.headers()["content-type"], /^text\/event-stream/, "the answer comes as a stream");
  await s.page.waitForURL((url) => UUID.test(url.pathname));
  await waitForAnswerDone(s.page);
  const sources = lastArticle(s.page).getByRole("list", { name: "Sources" });
  await visible(sources);
  assert.ok((await sources.getByRole("listitem").count()) >= 1, "the built-in agent cites the docs");
  const answer = (await lastArticle(s.page).innerText()).trim();
  assert.ok(answer.length > 20, "the answer has text");

  await s.page.reload();
  await visible(lastArticle(s.page).getByRole("list", { name: "Sources" }));
  const link = history(s.page).getByRole("link", { name: question, exact: true });
  await visible(link);

  await s.page.getByRole("button", { name: "Sign out", exact: true }).click();
  await visible(s.page.getByRole("heading", { name: "Sign in", exact: true }));
  await signIn(s.page, user);
  await visible(link);
  await link.click();
  await visible(lastArticle(s.page).getByRole("list", { name: "Sources" }));
  assert.equal((await lastArticle(s.page).innerText()).trim(), answer, "the stored answer, whole");
  assertNoErrors(s);
});
