// Guests (Better Auth's anonymous plugin): the official client's signIn.anonymous and
// deleteAnonymousUser against Chatkeep with ANONYMOUS_SIGN_IN=on and, as the reference, against
// the real Better Auth server with the anonymous plugin; then the same database shared by both.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { newSecret, startChatkeepAuth } from "./lib/auth-target.mjs";
import { startBetterAuth } from "./lib/better-auth-peer.mjs";
import { createDatabase, dropDatabase } from "./lib/chatkeep.mjs";
import { makeClient, SESSION_COOKIE } from "./lib/client.mjs";

const PASSWORD = "correct horse battery staple";
const email = (label) => `${label}-${Date.now()}-${randomBytes(4).toString("hex")}@example.com`;
const target = process.env.AUTH_TARGET === "better-auth" ? "better-auth" : "chatkeep";

async function startTarget() {
  if (target === "better-auth") return startBetterAuth({ secret: newSecret(), anonymous: true });
  return startChatkeepAuth({ secret: newSecret(), env: { ANONYMOUS_SIGN_IN: "on" } });
}

describe(`the official client's guests against ${target}`, () => {
  let server;
  before(async () => {
    server = await startTarget();
  });
  after(async () => server?.close());

  test("signIn.anonymous makes a guest with a session; a guest cannot start again", async () => {
    const { client } = makeClient(server.url);
    const { data, error } = await client.signIn.anonymous();
    assert.equal(error, null, JSON.stringify(error));
    assert.deepEqual(Object.keys(data), ["token", "user"]);
    assert.deepEqual(Object.keys(data.user), [
      "name", "email", "emailVerified", "image", "createdAt", "updatedAt", "isAnonymous",
      "role", "banned", "banReason", "banExpires", "id",
    ]);
    assert.equal(data.user.name, "Anonymous");
    assert.equal(data.user.isAnonymous, true);
    assert.match(data.user.email, /^[a-z0-9]{32}@anonymous\.placeholder\.invalid$/);
    const session = await client.getSession();
    assert.equal(session.data.user.id, data.user.id);
    assert.equal(session.data.user.isAnonymous, true);

    const again = await client.signIn.anonymous();
    assert.equal(again.error.status, 400);
    assert.equal(again.error.code, "ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY");
  });

  test("a guest who signs up becomes a member, and the guest is gone", async () => {
    const device = makeClient(server.url);
    const { client } = device;
    const guest = (await client.signIn.anonymous()).data.user;
    const guestCookie = device.jar.get(SESSION_COOKIE);
    const { data, error } = await client.signUp.email({ email: email("was-guest"), password: PASSWORD, name: "Ada" });
    assert.equal(error, null, JSON.stringify(error));
    assert.notEqual(data.user.id, guest.id);
    assert.equal(data.user.isAnonymous, false);
    assert.equal((await client.getSession()).data.user.id, data.user.id);
    // The guest's session died with the guest.
    const stale = makeClient(server.url);
    stale.jar.set(SESSION_COOKIE, guestCookie);
    assert.equal((await stale.client.getSession()).data, null);
  });

  test("deleteAnonymousUser removes a guest; a member is refused", async () => {
    const guest = makeClient(server.url);
    await guest.client.signIn.anonymous();
    const cookie = guest.jar.get(SESSION_COOKIE);
    const { data, error } = await guest.client.deleteAnonymousUser();
    assert.equal(error, null, JSON.stringify(error));
    assert.deepEqual(data, { success: true });
    const replayed = makeClient(server.url);
    replayed.jar.set(SESSION_COOKIE, cookie);
    assert.equal((await replayed.client.getSession()).data, null, "the guest's session is gone");

    const member = makeClient(server.url);
    await member.client.signUp.email({ email: email("member"), password: PASSWORD, name: "Bo" });
    const refused = await member.client.deleteAnonymousUser();
    assert.equal(refused.error.status, 403);
    assert.equal(refused.error.code, "USER_IS_NOT_ANONYMOUS");
  });
});

// Both servers at once: once is enough (the reference run leaves it to the main run).
describe("guests on a database Better Auth and Chatkeep share", { skip: target !== "chatkeep" }, () => {
  const database = `ba_guests_${randomBytes(6).toString("hex")}`;
  const secret = newSecret();
  const servers = {};

  before(async () => {
    await createDatabase(database);
    servers["Better Auth"] = await startBetterAuth({ database, secret, anonymous: true });
    servers.Chatkeep = await startChatkeepAuth({ database, secret, env: { ANONYMOUS_SIGN_IN: "on" } });
  });
  after(async () => {
    for (const server of Object.values(servers)) await server.close();
    await dropDatabase(database);
  });

  for (const [from, to] of [["Better Auth", "Chatkeep"], ["Chatkeep", "Better Auth"]]) {
    test(`a guest made on ${from} is a guest on ${to}, and signs up there`, async () => {
      const made = makeClient(servers[from].url);
      const guest = (await made.client.signIn.anonymous()).data.user;
      const there = makeClient(servers[to].url);
      there.jar.set(SESSION_COOKIE, made.jar.get(SESSION_COOKIE));
      const seen = (await there.client.getSession()).data.user;
      assert.deepEqual(seen, guest);
      const again = await there.client.signIn.anonymous();
      assert.equal(again.error.code, "ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY");
      const { error } = await there.client.signUp.email({ email: email("joined"), password: PASSWORD, name: "Cy" });
      assert.equal(error, null);
      assert.equal((await made.client.getSession()).data, null, "the guest is gone from both");
    });
  }
});
