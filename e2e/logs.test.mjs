// What the server logs, read from a real run at debug level: never a password, a session token,
// a cookie, a JWT, or what anyone wrote or was answered.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { newSecret, startChatkeepAuth } from "./lib/auth-target.mjs";
import { linkIn } from "./lib/smtp-sink.mjs";

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

/** The development outbox's mails (no SMTP_URL), parsed. */
async function outbox(dataDir) {
  const dir = path.join(dataDir, "outbox");
  const names = (await readdir(dir).catch(() => [])).filter((n) => n.endsWith(".eml")).sort();
  return Promise.all(names.map(async (n) => simpleParser(await readFile(path.join(dir, n)))));
}

async function waitForMail(dataDir, subject) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = (await outbox(dataDir)).find((m) => subject.test(m.subject ?? ""));
    if (found) return found;
    assert.ok(Date.now() < deadline, `no mail matching ${subject} in the outbox`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("reset and verification links, their tokens and the new password never reach the log", async () => {
  const url = server.url;
  const json = { origin: url, "content-type": "application/json" };
  const email = `links-${Date.now()}@example.com`;
  const newPassword = `new-pw-${crypto.randomUUID()}`;
  const signUp = await fetch(`${url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ name: "Link Watcher", email, password: `pw-${crypto.randomUUID()}` }),
  });
  assert.equal(signUp.status, 200);
  const verifyLink = linkIn({ text: (await waitForMail(server.server.dataDir, /^Verify/)).text }, "/api/auth/verify-email");
  const verified = await fetch(verifyLink, { redirect: "manual" });
  assert.equal(verified.status, 302);

  const asked = await fetch(`${url}/api/auth/request-password-reset`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email, redirectTo: "/reset-password" }),
  });
  assert.equal(asked.status, 200);
  const resetLink = linkIn({ text: (await waitForMail(server.server.dataDir, /^Reset/)).text }, "/api/auth/reset-password/");
  const token = new URL(resetLink).pathname.split("/").pop();
  const opened = await fetch(resetLink, { redirect: "manual" });
  assert.equal(opened.status, 302);
  const reset = await fetch(`${url}/api/auth/reset-password`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ newPassword, token }),
  });
  assert.equal(reset.status, 200);

  const log = server.server.output();
  assert.ok(log.includes("mail written to the development outbox"), "the outbox says where each mail went");
  assert.ok(log.includes("reset-password/{token}"), "the reset link's request is logged, its token hidden");
  const secrets = {
    "reset token": token,
    "verification token": new URL(verifyLink).searchParams.get("token"),
    "new password": newPassword,
    email,
  };
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(!log.includes(value), `the log contains the ${name}`);
  }
});

test("a mail server's refusal, which quotes the address, is logged without it", async (t) => {
  // A real SMTP server that refuses every recipient the way many do: naming the address.
  const refusing = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onRcptTo(address, session, callback) {
      const error = new Error(`<${address.address}>: Recipient address rejected: User unknown`);
      error.responseCode = 550;
      callback(error);
    },
  });
  await new Promise((resolve) => refusing.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => refusing.close(resolve)));
  const mailing = await startChatkeepAuth({
    secret: newSecret(),
    env: { RUST_LOG: "debug", LOG_FORMAT: "json", SMTP_URL: `smtp://127.0.0.1:${refusing.server.address().port}` },
  });
  t.after(() => mailing.close());
  const email = `refused-${Date.now()}@example.com`;
  const signUp = await fetch(`${mailing.url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { origin: mailing.url, "content-type": "application/json" },
    body: JSON.stringify({ name: "Refused", email, password: `pw-${crypto.randomUUID()}` }),
  });
  assert.equal(signUp.status, 200, "a mail that cannot be sent does not change the answer");
  const deadline = Date.now() + 15_000;
  while (!mailing.server.output().includes("a mail could not be sent")) {
    assert.ok(Date.now() < deadline, `no failed send in the log:\n${mailing.server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = mailing.server.output();
  assert.match(log, /the SMTP server answered 550/);
  assert.ok(!log.includes(email), "the log contains the address");
  assert.ok(!log.includes("sending a mail failed; trying again"), "a permanent refusal is not retried");
});
