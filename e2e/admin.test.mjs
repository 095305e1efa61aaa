// Administrators through the official client's admin plugin methods (`authClient.admin.*`).
// AUTH_TARGET=better-auth runs them against the real npm package with its admin plugin, which
// proves the expectations; the default, AUTH_TARGET=chatkeep, holds Chatkeep to them.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { authTarget, startServer } from "./lib/auth-target.mjs";
import { serverUrl } from "./lib/chatkeep.mjs";
import { makeClient } from "./lib/client.mjs";

const PASSWORD = "correct horse battery staple";
const BANNED =
  "You have been banned from this application. Please contact support if you believe this is an error.";

let server;
let db;

function uniqueEmail(label) {
  return `${label}-${Date.now()}-${randomBytes(4).toString("hex")}@example.com`;
}

async function signUpNew(label, name = `Test ${label}`) {
  const email = uniqueEmail(label);
  const device = makeClient(server.url);
  const { data, error } = await device.client.signUp.email({ email, password: PASSWORD, name });
  assert.equal(error, null, `sign-up failed: ${JSON.stringify(error)}`);
  return { ...device, email, user: data.user };
}

/** A new user made an administrator the way the first one is: outside the API. */
async function newAdmin() {
  const admin = await signUpNew("admin");
  await db.query(`UPDATE "user" SET role = 'admin' WHERE id = $1`, [admin.user.id]);
  return admin;
}

describe(`the official client's admin methods against ${authTarget()}`, () => {
  before(async () => {
    server = await startServer();
    db = new pg.Client({ connectionString: `${serverUrl}/${server.database}` });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await server?.close();
  });

  test("only administrators may: no session is a 401, a user gets the action's 403", async () => {
    const nobody = makeClient(server.url);
    const signedOut = await nobody.client.admin.listUsers({ query: {} });
    assert.equal(signedOut.error.status, 401);

    const user = await signUpNew("plain");
    const listed = await user.client.admin.listUsers({ query: {} });
    assert.equal(listed.error.status, 403);
    assert.equal(listed.error.code, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS");
    const banned = await user.client.admin.banUser({ userId: user.user.id });
    assert.equal(banned.error.code, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS");
    const asked = await user.client.admin.hasPermission({ permissions: { user: ["list"] } });
    assert.deepEqual(asked.data, { error: null, success: false });

    const admin = await newAdmin();
    const allowed = await admin.client.admin.hasPermission({ permissions: { user: ["ban", "list"], session: ["revoke"] } });
    assert.deepEqual(allowed.data, { error: null, success: true });
    const not = await admin.client.admin.hasPermission({ permissions: { user: ["impersonate-admins"] } });
    assert.equal(not.data.success, false);
  });

  test("listUsers searches, sorts and pages, with the total", async () => {
    const admin = await newAdmin();
    const tag = randomBytes(4).toString("hex");
    for (const name of ["Ana", "Ben", "Cai"]) {
      const device = makeClient(server.url);
      const { error } = await device.client.signUp.email({ email: `${name.toLowerCase()}-${tag}@example.org`, password: PASSWORD, name });
      assert.equal(error, null);
    }
    const found = await admin.client.admin.listUsers({
      query: { searchValue: tag, searchField: "email", sortBy: "email", sortDirection: "desc", limit: 2, offset: 1 },
    });
    assert.equal(found.error, null, JSON.stringify(found.error));
    assert.deepEqual(found.data.users.map((u) => u.name), ["Ben", "Ana"]);
    assert.equal(found.data.total, 3);
    assert.equal(found.data.limit, 2);
    assert.equal(found.data.offset, 1);
    assert.ok(found.data.users[0].createdAt instanceof Date, "dates revived");
    assert.equal(found.data.users[0].role, "user");
    assert.equal(found.data.users[0].banned, false);

    const byName = await admin.client.admin.listUsers({
      query: { searchValue: "Ca", searchField: "name", searchOperator: "starts_with", filterField: "email", filterValue: `cai-${tag}@example.org` },
    });
    assert.deepEqual(byName.data.users.map((u) => u.name), ["Cai"]);
    assert.equal(byName.data.total, 1);
    assert.equal("limit" in byName.data, false);
  });

  test("createUser, getUser, updateUser and setRole", async () => {
    const admin = await newAdmin();
    const email = uniqueEmail("Made");
    const made = await admin.client.admin.createUser({ email, password: PASSWORD, name: "Made" });
    assert.equal(made.error, null, JSON.stringify(made.error));
    assert.equal(made.data.user.email, email.toLowerCase());
    assert.equal(made.data.user.role, "user");
    const person = makeClient(server.url);
    const signedIn = await person.client.signIn.email({ email, password: PASSWORD });
    assert.equal(signedIn.error, null, "the made user signs in with the password the administrator set");

    const again = await admin.client.admin.createUser({ email, password: PASSWORD, name: "Made" });
    assert.equal(again.error.status, 400);
    assert.equal(again.error.code, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");

    const got = await admin.client.admin.getUser({ query: { id: made.data.user.id } });
    assert.equal(got.data.id, made.data.user.id);
    assert.equal(got.data.email, email.toLowerCase());
    const missing = await admin.client.admin.getUser({ query: { id: "nobody-at-all" } });
    assert.equal(missing.error.status, 404);
    assert.equal(missing.error.code, "USER_NOT_FOUND");

    const updated = await admin.client.admin.updateUser({ userId: made.data.user.id, data: { name: "Renamed" } });
    assert.equal(updated.data.name, "Renamed");
    const empty = await admin.client.admin.updateUser({ userId: made.data.user.id, data: {} });
    assert.equal(empty.error.code, "NO_DATA_TO_UPDATE");
    const password = await admin.client.admin.updateUser({ userId: made.data.user.id, data: { password: "x" } });
    assert.equal(password.error.code, "PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER");

    const role = await admin.client.admin.setRole({ userId: made.data.user.id, role: ["user", "admin"] });
    assert.equal(role.data.user.role, "user,admin");
    const asked = await person.client.admin.hasPermission({ permissions: { user: ["list"] } });
    assert.equal(asked.data.success, true, "the new role counts from the next request");
  });

  test("banUser ends the sessions and refuses sign-in; unbanUser lifts it", async () => {
    const admin = await newAdmin();
    const victim = await signUpNew("banned");
    const ban = await admin.client.admin.banUser({ userId: victim.user.id, banReason: "spam", banExpiresIn: 3600 });
    assert.equal(ban.error, null, JSON.stringify(ban.error));
    assert.equal(ban.data.user.banned, true);
    assert.equal(ban.data.user.banReason, "spam");
    assert.ok(ban.data.user.banExpires instanceof Date);
    assert.ok(Math.abs(ban.data.user.banExpires.getTime() - (Date.now() + 3600_000)) < 60_000);

    const session = await victim.client.getSession();
    assert.equal(session.data, null, "signed out at once");
    const signIn = await makeClient(server.url).client.signIn.email({ email: victim.email, password: PASSWORD });
    assert.equal(signIn.error.status, 403);
    assert.equal(signIn.error.code, "BANNED_USER");
    assert.equal(signIn.error.message, BANNED);

    const self = await admin.client.admin.banUser({ userId: admin.user.id });
    assert.equal(self.error.code, "YOU_CANNOT_BAN_YOURSELF");

    const lifted = await admin.client.admin.unbanUser({ userId: victim.user.id });
    assert.equal(lifted.data.user.banned, false);
    assert.equal(lifted.data.user.banReason, null);
    const back = await makeClient(server.url).client.signIn.email({ email: victim.email, password: PASSWORD });
    assert.equal(back.error, null);
  });

  test("sessions, passwords and removal", async () => {
    const admin = await newAdmin();
    const user = await signUpNew("managed");
    const listed = await admin.client.admin.listUserSessions({ userId: user.user.id });
    assert.equal(listed.data.sessions.length, 1);
    assert.equal(listed.data.sessions[0].impersonatedBy, null);
    const token = listed.data.sessions[0].token;

    const revoked = await admin.client.admin.revokeUserSession({ sessionToken: token });
    assert.deepEqual(revoked.data, { success: true });
    assert.equal((await user.client.getSession()).data, null);

    const phone = makeClient(server.url);
    await phone.client.signIn.email({ email: user.email, password: PASSWORD });
    const all = await admin.client.admin.revokeUserSessions({ userId: user.user.id });
    assert.deepEqual(all.data, { success: true });
    assert.equal((await phone.client.getSession()).data, null);

    const set = await admin.client.admin.setUserPassword({ userId: user.user.id, newPassword: "a brand new password" });
    assert.deepEqual(set.data, { status: true });
    const old = await makeClient(server.url).client.signIn.email({ email: user.email, password: PASSWORD });
    assert.equal(old.error.status, 401);
    const fresh = await makeClient(server.url).client.signIn.email({ email: user.email, password: "a brand new password" });
    assert.equal(fresh.error, null);

    const self = await admin.client.admin.removeUser({ userId: admin.user.id });
    assert.equal(self.error.code, "YOU_CANNOT_REMOVE_YOURSELF");
    const removed = await admin.client.admin.removeUser({ userId: user.user.id });
    assert.deepEqual(removed.data, { success: true });
    const gone = await admin.client.admin.getUser({ query: { id: user.user.id } });
    assert.equal(gone.error.status, 404);
  });
});
