// The compose file's `scale` profile, across its instances (scripts/compose-check.sh runs this
// file; it is not part of `npm test`): two Chatkeep containers on one database and one Redis,
// nginx in front on :8081. COMPOSE_A and COMPOSE_B are the instances' own addresses on Docker's
// bridge network; the slow answer comes from the fake upstream their AGENT_URL names.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { after, before, test } from "node:test";
import { newUser, PASSWORD, until } from "../lib/app.mjs";
import { startFakeUpstream } from "../lib/fake-upstream.mjs";

const proxy = process.env.COMPOSE_PROXY ?? "http://localhost:8081";
const a = process.env.COMPOSE_A;
const b = process.env.COMPOSE_B;
assert.ok(a && b, "COMPOSE_A and COMPOSE_B name the two instances");

let upstream;
before(async () => {
  upstream = await startFakeUpstream({
    host: process.env.FAKE_UPSTREAM_HOST,
    port: Number(process.env.FAKE_UPSTREAM_PORT),
  });
});
after(() => upstream?.close());

/** A JSON request to `base` as a browser on the public origin would send it. */
function call(base, path, { method = "GET", body, cookie, forwardedFor } = {}) {
  const headers = { origin: proxy };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (cookie) headers.cookie = cookie;
  if (forwardedFor) headers["x-forwarded-for"] = forwardedFor;
  return fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function signUpAt(base) {
  const user = newUser("Scale");
  const response = await call(base, "/api/auth/sign-up/email", { method: "POST", body: user });
  assert.equal(response.status, 200, await response.clone().text());
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  assert.match(cookie, /better-auth\.session_token=/);
  return { ...user, cookie };
}

test("a session made through one instance is good on the other and through the proxy", async () => {
  const user = await signUpAt(a);
  for (const base of [b, proxy]) {
    const session = await (await call(base, "/api/auth/get-session", { cookie: user.cookie })).json();
    assert.equal(session?.user?.email, user.email, `the session made on A, read at ${base}`);
  }
  const created = await call(b, "/api/conversations", { method: "POST", body: {}, cookie: user.cookie });
  assert.equal(created.status, 201);
  const { id } = await created.json();
  const listed = await (await call(a, "/api/conversations", { cookie: user.cookie })).json();
  assert.deepEqual(
    listed.items.map((c) => c.id),
    [id],
    "made on B, listed on A",
  );
});

test("the sign-in limit is one count across both instances", async () => {
  // One client (its own address, which both instances take from X-Forwarded-For since Docker's
  // network is a trusted proxy), alternating between the instances. Separate counts would give
  // each instance two attempts; the shared count refuses the fourth.
  const client = `198.51.100.${randomInt(1, 255)}`;
  const statuses = [];
  for (const base of [a, b, a, b]) {
    const response = await call(base, "/api/auth/sign-in/email", {
      method: "POST",
      body: { email: "nobody@example.com", password: PASSWORD },
      forwardedFor: client,
    });
    statuses.push(response.status);
  }
  assert.deepEqual(statuses, [401, 401, 401, 429]);
});

/** Reads an SSE response, calling `onEvent(name, data)` per event until the stream ends. */
async function readEvents(response, onEvent) {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const frame = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const name = frame.match(/^event: (.*)$/m)?.[1];
      const data = frame.match(/^data: (.*)$/m)?.[1];
      if (name && data) onEvent(name, JSON.parse(data));
    }
  }
}

test("a stop sent to one instance ends the answer the other is writing", async () => {
  const user = await signUpAt(a);
  const created = await call(a, "/api/conversations", { method: "POST", body: {}, cookie: user.cookie });
  const { id: conversation } = await created.json();
  const asked = await fetch(`${a}/api/conversations/${conversation}/messages`, {
    method: "POST",
    headers: { origin: proxy, cookie: user.cookie, "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ content: "Tell me something long" }),
  });
  assert.equal(asked.status, 200);

  let answer;
  let words = 0;
  let finish;
  const reading = readEvents(asked, (name, data) => {
    if (name === "start") answer = data.messageId;
    if (name === "delta") words += 1;
    if (name === "finish") finish = data.finishReason;
  });
  await until(() => answer && words >= 3, "the first words written on A");
  const stopAt = Date.now();
  const stopped = await call(b, `/api/conversations/${conversation}/messages/${answer}/stop`, {
    method: "POST",
    cookie: user.cookie,
  });
  assert.equal(stopped.status, 200);
  await reading;
  console.log(`stop through B ended A's answer after ${Date.now() - stopAt} ms, ${words} words in`);
  assert.equal(finish, "stopped", "A's stream ends as stopped, not at the answer's natural end");
  assert.ok(!upstream.requests[0].finished, "the upstream was not left to finish the answer");
});
