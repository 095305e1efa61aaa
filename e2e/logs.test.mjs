// What the server logs, read from a real run at debug level: never a password, a session token,
// a cookie, a JWT, or what anyone wrote or was answered.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { newSecret, startChatkeepAuth } from "./lib/auth-target.mjs";

let server;

before(async () => {
  server = await startChatkeepAuth({ secret: newSecret(), env: { RUST_LOG: "debug", LOG_FORMAT: "json" } });
});

after(async () => {
  await server?.close();
});

test("a whole session's secrets and messages never reach the log", async () => {
  const url = server.url;
  const origin = { origin: url, "content-type": "application/json" };
  const password = `pw-${crypto.randomUUID()}`;
  const email = `logs-${Date.now()}@example.com`;
  const question = `How do I delete my account, zebra ${crypto.randomUUID()}?`;

  const signUp = await fetch(`${url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: origin,
    body: JSON.stringify({ name: "Log Watcher", email, password }),
  });
  assert.equal(signUp.status, 200);
  const { token, user } = await signUp.json();
  const bearer = signUp.headers.get("set-auth-token");
  const cookie = signUp.headers.get("set-cookie").split(";")[0];

  const wrong = await fetch(`${url}/api/auth/sign-in/email`, {
    method: "POST",
    headers: origin,
    body: JSON.stringify({ email, password: `${password}-wrong` }),
  });
  assert.equal(wrong.status, 401);
  const session = await fetch(`${url}/api/auth/get-session`, { headers: { cookie } });
  const jwt = session.headers.get("set-auth-jwt");
  assert.ok(jwt);
  const forged = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${jwt}x` } });
  assert.equal(forged.status, 401);

  const auth = { authorization: `Bearer ${bearer}`, "content-type": "application/json" };
  const conversation = await (await fetch(`${url}/api/conversations`, { method: "POST", headers: auth })).json();
  const exchange = await (
    await fetch(`${url}/api/conversations/${conversation.id}/messages`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ content: question, selectedText: "a selected zebra passage" }),
    })
  ).json();
  const answer = exchange.assistantMessage.content;
  assert.ok(answer.length > 40);

  await fetch(`${url}/api/auth/change-password`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ currentPassword: password, newPassword: `${password}-new` }),
  });

  const log = server.server.output();
  assert.ok(log.includes("request"), "the log has request lines to inspect");
  // What may be logged is: the user's id says whose request it was.
  assert.ok(log.includes(user.id), "requests are attributed to their user");
  const secrets = {
    password,
    "raw session token": token,
    "signed bearer token": bearer,
    "cookie value": cookie.split("=")[1],
    JWT: jwt,
    "JWT signature": jwt.split(".")[2],
    question: "zebra",
    "selected text": "selected zebra passage",
    "answer text": answer.slice(answer.indexOf(">") + 2, answer.indexOf(">") + 42),
    email,
  };
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(!log.includes(value), `the log contains the ${name}`);
  }
});
