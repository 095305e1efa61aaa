// Databases from other Better Auth apps: secret rotation (Better Auth 1.5's BETTER_AUTH_SECRETS)
// and bcrypt password hashes (what vercel/chatbot and LobeHub store), each proven with the real
// Better Auth server on the same database, configured the same way; and Better Auth 1.7's schema
// check passing on a database Chatkeep made.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import bcrypt from "bcryptjs";
import pg from "pg";
import { startChatkeepAuth } from "./lib/auth-target.mjs";
import { startBetterAuth } from "./lib/better-auth-peer.mjs";
import { createDatabase, dropDatabase, serverUrl } from "./lib/chatkeep.mjs";
import { makeClient, SESSION_COOKIE } from "./lib/client.mjs";

const PASSWORD = "correct horse battery staple";
const secretOf = (label) => `${label}-${randomBytes(24).toString("hex")}`;
const email = (label) => `${label}-${Date.now()}-${randomBytes(4).toString("hex")}@example.com`;
/** The `kid` in a JWT's header: which stored key signed it. */
const kidOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString()).kid;

async function signUp(url, label) {
  const device = makeClient(url);
  const address = email(label);
  const { data, error } = await device.client.signUp.email({ email: address, password: PASSWORD, name: label });
  assert.equal(error, null, `sign-up: ${JSON.stringify(error)}`);
  return { ...device, email: address, user: data.user };
}

async function signIn(url, address, password = PASSWORD) {
  const device = makeClient(url);
  const { data, error } = await device.client.signIn.email({ email: address, password });
  return { ...device, data, error };
}

async function token(client) {
  const { data, error } = await client.token();
  assert.equal(error, null, `token: ${JSON.stringify(error)}`);
  return data.token;
}

/** The session cookie of `device` presented to `url`: whose session it opens there, if any. */
async function sessionElsewhere(device, url) {
  const elsewhere = makeClient(url);
  elsewhere.jar.set(SESSION_COOKIE, device.jar.get(SESSION_COOKIE));
  return (await elsewhere.client.getSession()).data;
}

/**
 * A database for one suite, and Better Auth and Chatkeep on it: `start` (re)starts both, each
 * kept as soon as it runs, so a start that fails half-way leaves nothing running.
 */
function sharedDatabase(prefix) {
  const shared = { database: `${prefix}_${randomBytes(6).toString("hex")}`, db: null };
  const servers = [];
  shared.start = async (options, env) => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    const ba = await startBetterAuth({ database: shared.database, ...options });
    servers.push(ba);
    const ck = await startChatkeepAuth({ database: shared.database, secret: options.secret ?? "", env });
    servers.push(ck);
    return { ba: ba.url, ck: ck.url };
  };
  before(async () => {
    await createDatabase(shared.database);
    shared.db = new pg.Pool({ connectionString: `${serverUrl}/${shared.database}` });
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await shared.db?.end();
    await dropDatabase(shared.database);
  });
  return shared;
}

describe("BETTER_AUTH_SECRETS: rotating the secret of a database Better Auth and Chatkeep share", () => {
  const shared = sharedDatabase("ba_rotation");
  const { start } = shared;
  const [old, current, newest] = [secretOf("old"), secretOf("new"), secretOf("newest")];

  test("before, during and after a rotation: sessions, JWT keys and sign-ins work on both", async () => {
    // 1. One secret. Better Auth mints the JWT key (bare hex under `old`).
    let { ba, ck } = await start({ secret: old }, {});
    const alice = await signUp(ck, "alice");
    const bob = await signUp(ba, "bob");
    const firstKid = kidOf(await token(bob.client));

    // 2. Rotated: "2:new,1:old", with BETTER_AUTH_SECRET=old kept for what predates it.
    ({ ba, ck } = await start(
      { secret: old, secrets: [{ version: 2, value: current }, { version: 1, value: old }] },
      { BETTER_AUTH_SECRETS: `2:${current},1:${old}`, BETTER_AUTH_SECRET: old },
    ));
    // Cookies signed with the old secret: Chatkeep accepts them (ours, on purpose); Better Auth
    // 1.7 checks the current secret only, so its users sign in again.
    assert.equal((await sessionElsewhere(alice, ck))?.user.id, alice.user.id, "Chatkeep: an old cookie still opens its session");
    assert.equal(await sessionElsewhere(alice, ba), null, "Better Auth: an old cookie is refused (measured)");
    // The key from before rotation is read with BETTER_AUTH_SECRET on both.
    const carolOnBa = await signIn(ba, (await signUp(ck, "carol")).email);
    assert.equal(carolOnBa.error, null);
    assert.equal(kidOf(await token(carolOnBa.client)), firstKid);
    const carolOnCk = await signIn(ck, carolOnBa.data.user.email);
    assert.equal(kidOf(await token(carolOnCk.client)), firstKid);
    // Cookies signed now (with "new") open sessions on both.
    assert.equal((await sessionElsewhere(carolOnBa, ck))?.user.id, carolOnBa.data.user.id);
    assert.equal((await sessionElsewhere(carolOnCk, ba))?.user.id, carolOnBa.data.user.id);

    // A new key is encrypted with version 2; Better Auth makes it, Chatkeep signs with it.
    await shared.db.query("DELETE FROM jwks");
    const baKid = kidOf(await token(carolOnBa.client));
    const stored = (await shared.db.query(`SELECT "privateKey" FROM jwks WHERE id = $1`, [baKid])).rows[0].privateKey;
    assert.match(stored, /^"\$ba\$2\$[0-9a-f]+"$/);
    ({ ba, ck } = await start(
      { secret: old, secrets: [{ version: 2, value: current }, { version: 1, value: old }] },
      { BETTER_AUTH_SECRETS: `2:${current},1:${old}`, BETTER_AUTH_SECRET: old },
    ));
    assert.equal(kidOf(await token((await signIn(ck, carolOnBa.data.user.email)).client)), baKid);

    // 3. Version 1 retired, 3 added, BETTER_AUTH_SECRET gone: version 2's key still reads on
    // both; Chatkeep makes the next key (version 3) and Better Auth signs with it.
    ({ ba, ck } = await start(
      { secrets: [{ version: 3, value: newest }, { version: 2, value: current }] },
      { BETTER_AUTH_SECRETS: `3:${newest},2:${current}` },
    ));
    const dave = await signUp(ck, "dave");
    assert.equal(kidOf(await token(dave.client)), baKid, "Chatkeep reads Better Auth's $ba$2$ key");
    assert.equal((await signIn(ba, dave.email)).error, null);
    assert.equal((await sessionElsewhere(dave, ba))?.user.id, dave.user.id, "a version-3 cookie from Chatkeep");
    // Chatkeep keeps its signing key in memory (AUTH_JWKS_CACHE_SECS): a fresh start reads the
    // table, finds it empty and makes the next key.
    ({ ba, ck } = await start(
      { secrets: [{ version: 3, value: newest }, { version: 2, value: current }] },
      { BETTER_AUTH_SECRETS: `3:${newest},2:${current}` },
    ));
    await shared.db.query("DELETE FROM jwks");
    const ckKid = kidOf(await token((await signIn(ck, dave.email)).client));
    const ours = (await shared.db.query(`SELECT "privateKey" FROM jwks WHERE id = $1`, [ckKid])).rows[0].privateKey;
    assert.match(ours, /^"\$ba\$3\$[0-9a-f]+"$/);
    const daveOnBa = await signIn(ba, dave.email);
    assert.equal(kidOf(await token(daveOnBa.client)), ckKid, "Better Auth reads Chatkeep's $ba$3$ key");
  });
});

describe("bcrypt hashes from apps that bring their own", () => {
  const shared = sharedDatabase("ba_bcrypt");

  const storedHash = async (userId) =>
    (await shared.db.query(`SELECT password FROM account WHERE "userId" = $1 AND "providerId" = 'credential'`, [userId]))
      .rows[0].password;

  test("like vercel/chatbot (bcrypt both ways): PASSWORD_HASH=bcrypt, and each server signs in the other's users", async () => {
    const secret = secretOf("bcrypt");
    // vercel/chatbot's Better Auth configuration: bcrypt, cost 10, for hashing and checking.
    const { ba, ck } = await shared.start(
      {
        secret,
        password: {
          hash: async (password) => bcrypt.hashSync(password, bcrypt.genSaltSync(10)),
          verify: async ({ hash, password }) => bcrypt.compareSync(password, hash),
        },
      },
      { PASSWORD_HASH: "bcrypt" },
    );

    const fromBa = await signUp(ba, "made-on-ba");
    assert.match(await storedHash(fromBa.user.id), /^\$2[ab]\$10\$/);
    assert.equal((await signIn(ck, fromBa.email)).error, null);
    assert.equal((await signIn(ck, fromBa.email, `${PASSWORD}!`)).error.status, 401);

    const fromCk = await signUp(ck, "made-on-chatkeep");
    assert.match(await storedHash(fromCk.user.id), /^\$2b\$10\$.{53}$/);
    assert.equal((await signIn(ba, fromCk.email)).error, null);
    assert.equal((await signIn(ba, fromCk.email, `${PASSWORD}!`)).error.status, 401);

    // A changed password stays bcrypt, so the other app still reads it.
    const { error } = await fromCk.client.changePassword({ currentPassword: PASSWORD, newPassword: `${PASSWORD} 2` });
    assert.equal(error, null);
    assert.match(await storedHash(fromCk.user.id), /^\$2b\$/);
    assert.equal((await signIn(ba, fromCk.email, `${PASSWORD} 2`)).error, null);
  });

  test("like LobeHub (bcrypt imported, scrypt for new passwords): imported $2a$ and $2y$ hashes sign in, new ones are scrypt", async () => {
    const secret = secretOf("lobehub");
    // LobeHub's: bcrypt for the hashes it imported, Better Auth's scrypt for everything new.
    const { verifyPassword } = await import("better-auth/crypto");
    const { ba, ck } = await shared.start(
      {
        secret,
        password: {
          verify: async ({ hash, password }) =>
            /^\$2[aby]\$/.test(hash) ? bcrypt.compareSync(password, hash) : verifyPassword({ hash, password }),
        },
      },
      {},
    );

    for (const prefix of ["$2a$", "$2y$"]) {
      const imported = await signUp(ba, `imported-${prefix.slice(2, 3)}`);
      // What an import from next-auth or Clerk leaves: the bcrypt hash of the same password.
      const hash = prefix + bcrypt.hashSync(PASSWORD, 10).slice(4);
      await shared.db.query(`UPDATE account SET password = $1 WHERE "userId" = $2`, [hash, imported.user.id]);
      assert.equal((await signIn(ck, imported.email)).error, null, `${prefix} on Chatkeep`);
      assert.equal((await signIn(ck, imported.email, "wrong password!")).error.status, 401);
      assert.equal((await signIn(ba, imported.email)).error, null, `${prefix} on Better Auth`);
      // Chatkeep never rewrites a bcrypt hash on sign-in.
      assert.equal(await storedHash(imported.user.id), hash);
    }

    const fresh = await signUp(ck, "fresh");
    assert.match(await storedHash(fresh.user.id), /^[0-9a-f]{32}:[0-9a-f]{128}$/, "scrypt, Better Auth's format");
    assert.equal((await signIn(ba, fresh.email)).error, null);
  });
});

describe("Better Auth 1.7 on a database Chatkeep created", () => {
  const database = `ba_schema_${randomBytes(6).toString("hex")}`;
  const servers = [];

  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await dropDatabase(database);
  });

  test("its migration finds nothing missing, its schema check passes, and it serves Chatkeep's users", async () => {
    await createDatabase(database);
    const secret = secretOf("schema");
    const ck = await startChatkeepAuth({ database, secret, env: {} });
    servers.push(ck);
    const alice = await signUp(ck.url, "alice");
    // Better Auth with the plugins Chatkeep speaks for, on Chatkeep's tables as they are: its
    // schema check (advanced.database.validateSchema, on by default) runs on the first request.
    const ba = await startBetterAuth({ database, secret, migrate: false });
    servers.push(ba);
    assert.deepEqual(ba.pending, { toBeCreated: [], toBeAdded: [] });
    const onBa = await signIn(ba.url, alice.email);
    assert.equal(onBa.error, null, JSON.stringify(onBa.error));
    assert.deepEqual(onBa.data.user, alice.user);
    await signUp(ba.url, "bob"); // and writes to them
  });
});
