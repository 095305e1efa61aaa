// Better Auth and Chatkeep on ONE database with ONE secret are interchangeable: users, password
// hashes, session cookies, bearer tokens and JWT keys written by either are honoured by the other.
// This is what lets a deployment move from Better Auth to Chatkeep (or run both) without logging
// anybody out, or breaking a link already mailed: both send their mail to one real SMTP server,
// and a reset or verification link made by one is completed on the other. Both run the admin
// plugin: a ban made on one bites on the other.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { newSecret, startChatkeepAuth } from "./lib/auth-target.mjs";
import { startBetterAuth } from "./lib/better-auth-peer.mjs";
import pg from "pg";
import { createDatabase, dropDatabase, serverUrl } from "./lib/chatkeep.mjs";
import { makeClient, SESSION_COOKIE } from "./lib/client.mjs";
import { linkIn, startSmtpSink } from "./lib/smtp-sink.mjs";

const PASSWORD = "correct horse battery staple";

describe("Better Auth and Chatkeep sharing a database", () => {
  const database = `ba_interop_${randomBytes(6).toString("hex")}`;
  const secret = newSecret();
  /** @type {Record<string, {url: string, close(): Promise<void>}>} */
  const servers = {};
  let sink;

  before(async () => {
    sink = await startSmtpSink();
    await createDatabase(database);
    // Better Auth's migration first; Chatkeep's `create table if not exists` then finds its tables.
    servers["Better Auth"] = await startBetterAuth({ database, secret, mail: { smtpUrl: sink.url } });
    servers.Chatkeep = await startChatkeepAuth({ database, secret, env: { SMTP_URL: sink.url } });
  });

  after(async () => {
    for (const server of Object.values(servers)) await server.close();
    await dropDatabase(database);
    await sink?.stop();
  });

  /** SQL on the shared database, for what no endpoint does (the first administrator's role). */
  async function query(sql, values) {
    const client = new pg.Client({ connectionString: `${serverUrl}/${database}` });
    await client.connect();
    try {
      return await client.query(sql, values);
    } finally {
      await client.end();
    }
  }

  async function signUpOn(name) {
    const email = `shared-${Date.now()}-${randomBytes(4).toString("hex")}@example.com`;
    const device = makeClient(servers[name].url);
    const { data, error } = await device.client.signUp.email({
      email,
      password: PASSWORD,
      name: `Made on ${name}`,
    });
    assert.equal(error, null, `sign-up on ${name}: ${JSON.stringify(error)}`);
    return { ...device, email, user: data.user, token: data.token };
  }

  for (const [from, to] of [["Better Auth", "Chatkeep"], ["Chatkeep", "Better Auth"]]) {
    describe(`from ${from} to ${to}`, () => {
      test("a user signed up on one signs in on the other", async () => {
        const alice = await signUpOn(from);
        const { data, error } = await makeClient(servers[to].url).client.signIn.email({
          email: alice.email,
          password: PASSWORD,
        });
        assert.equal(error, null);
        assert.deepEqual(data.user, alice.user);
      });

      test("a session cookie and bearer token from one are accepted by the other", async () => {
        const alice = await signUpOn(from);
        const transplanted = makeClient(servers[to].url);
        transplanted.jar.set(SESSION_COOKIE, alice.jar.get(SESSION_COOKIE));
        const { data } = await transplanted.client.getSession();
        assert.equal(data?.session.token, alice.token);
        assert.deepEqual(data.user, alice.user);

        const auth = { type: "Bearer", token: alice.captured["set-auth-token"] };
        const bearer = await makeClient(servers[to].url).client.getSession({ fetchOptions: { auth } });
        assert.equal(bearer.data?.session.token, alice.token);
      });

      test("a JWT from one verifies against the other's /jwks", async () => {
        const alice = await signUpOn(from);
        const { data, error } = await alice.client.token();
        assert.equal(error, null);
        // The issuer is whoever signed it; only the key set comes from the other server.
        const issuer = new URL(servers[from].url).origin;
        const jwks = createRemoteJWKSet(new URL(`${servers[to].url}/api/auth/jwks`));
        const { payload } = await jwtVerify(data.token, jwks, { algorithms: ["EdDSA"], issuer, audience: issuer });
        assert.equal(payload.sub, alice.user.id);
      });

      test("signing out on one ends the session on the other", async () => {
        const alice = await signUpOn(from);
        const elsewhere = makeClient(servers[to].url);
        elsewhere.jar.set(SESSION_COOKIE, alice.jar.get(SESSION_COOKIE));
        assert.notEqual((await elsewhere.client.getSession()).data, null);
        await alice.client.signOut();
        assert.equal((await elsewhere.client.getSession()).data, null);
      });

      test("a password reset requested on one is completed on the other", async () => {
        const alice = await signUpOn(from);
        const asked = await makeClient(servers[from].url).client.requestPasswordReset({ email: alice.email, redirectTo: "/reset" });
        assert.equal(asked.error, null);
        const link = linkIn(await sink.waitFor(alice.email, /Reset/), `${servers[from].url}/api/auth/reset-password/`);
        const token = new URL(link).pathname.split("/").pop();
        // The other server's own link for that token finds it too.
        const opened = await fetch(`${servers[to].url}/api/auth/reset-password/${token}?callbackURL=%2Freset`, { redirect: "manual" });
        assert.equal(opened.headers.get("location"), `${servers[to].url}/reset?token=${token}`);

        const newPassword = `${PASSWORD} renewed`;
        const reset = await makeClient(servers[to].url).client.resetPassword({ newPassword, token });
        assert.equal(reset.error, null, JSON.stringify(reset.error));
        assert.equal((await alice.client.getSession()).data, null, "both revoke sessions on reset");
        for (const name of [from, to]) {
          const { error } = await makeClient(servers[name].url).client.signIn.email({ email: alice.email, password: newPassword });
          assert.equal(error, null, `the new password on ${name}`);
        }
        const again = await makeClient(servers[from].url).client.resetPassword({ newPassword: PASSWORD, token });
        assert.equal(again.error?.code, "INVALID_TOKEN", "the token was used up for both");
      });

      test("a verification link made by one is followed on the other", async () => {
        const alice = await signUpOn(from);
        const link = linkIn(await sink.waitFor(alice.email, /Verify/), `${servers[from].url}/api/auth/verify-email`);
        const token = new URL(link).searchParams.get("token");
        const { data, error } = await makeClient(servers[to].url).client.verifyEmail({ query: { token } });
        assert.equal(error, null, JSON.stringify(error));
        assert.deepEqual(data, { status: true, user: null });
        assert.equal((await alice.client.getSession()).data.user.emailVerified, true);
      });

      test("an administrator's ban made on one is refused on the other, and lifted there", async () => {
        const admin = await signUpOn(from);
        await query(`UPDATE "user" SET role = 'admin' WHERE id = $1`, [admin.user.id]);
        const victim = await signUpOn(to);
        const banned = await admin.client.admin.banUser({ userId: victim.user.id, banReason: "spam" });
        assert.equal(banned.error, null, JSON.stringify(banned.error));
        assert.equal((await victim.client.getSession()).data, null, `${to} has ended the session`);
        const refused = await makeClient(servers[to].url).client.signIn.email({ email: victim.email, password: PASSWORD });
        assert.equal(refused.error?.code, "BANNED_USER");
        assert.equal(refused.error.status, 403);

        const adminThere = makeClient(servers[to].url);
        await adminThere.client.signIn.email({ email: admin.email, password: PASSWORD });
        const lifted = await adminThere.client.admin.unbanUser({ userId: victim.user.id });
        assert.equal(lifted.data?.user.banned, false, JSON.stringify(lifted.error));
        const back = await makeClient(servers[from].url).client.signIn.email({ email: victim.email, password: PASSWORD });
        assert.equal(back.error, null);
      });
    });
  }
});
