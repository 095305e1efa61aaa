// The official Better Auth client (better-auth/client + jwtClient) against /api/auth.
// AUTH_TARGET=better-auth runs it against the real npm package, which proves the expectations;
// the default, AUTH_TARGET=chatkeep, holds Chatkeep to the same expectations.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { authTarget, startServer } from "./lib/auth-target.mjs";
import { makeClient, SESSION_COOKIE } from "./lib/client.mjs";

let server;

const PASSWORD = "correct horse battery staple";
// With the admin plugin (Chatkeep always has it): role and ban fields, and impersonatedBy.
const USER_KEYS = [
  "banExpires", "banReason", "banned", "createdAt", "email", "emailVerified", "id", "image", "name", "role", "updatedAt",
];
const SESSION_KEYS = [
  "createdAt", "expiresAt", "id", "impersonatedBy", "ipAddress", "token", "updatedAt", "userAgent", "userId",
];
const SESSION_TOKEN = /^[A-Za-z0-9]{32}$/;
const DAY_MS = 24 * 3600 * 1000;

function uniqueEmail(label) {
  return `${label}-${Date.now()}-${randomBytes(4).toString("hex")}@example.com`;
}

/** A new user, signed up through a fresh client (whose jar then holds the session). */
async function signUpNew(label = "user") {
  const email = uniqueEmail(label);
  const alice = makeClient(server.url);
  const { data, error } = await alice.client.signUp.email({ email, password: PASSWORD, name: `Test ${label}` });
  assert.equal(error, null, `sign-up failed: ${JSON.stringify(error)}`);
  return { ...alice, email, user: data.user, token: data.token };
}

/** Another device of the same user: a fresh client (own jar) that signed in. */
async function signInNew(email, password = PASSWORD) {
  const device = makeClient(server.url);
  const { data, error } = await device.client.signIn.email({ email, password });
  assert.equal(error, null, `sign-in failed: ${JSON.stringify(error)}`);
  return { ...device, token: data.token };
}

async function currentSession(device) {
  const { data, error } = await device.client.getSession();
  assert.equal(error, null);
  return data;
}

function assertUserShape(user) {
  assert.deepEqual(Object.keys(user).sort(), USER_KEYS);
  assert.match(user.id, SESSION_TOKEN, "ids share the 32-alphanumeric format of tokens");
  assert.equal(user.emailVerified, false);
  assert.equal(user.image, null);
  assert.ok(user.createdAt instanceof Date, "ISO dates are revived by the client");
  assert.ok(user.updatedAt instanceof Date);
}

const target = authTarget();

describe(`the official client against ${target}`, () => {
  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server?.close();
  });

  describe("sign-up and sign-in", () => {
    test("sign-up returns the user and a session token, and sets the session cookie", async () => {
      const email = uniqueEmail("Mixed.Case");
      const alice = makeClient(server.url);
      const { data, error } = await alice.client.signUp.email({ email, password: PASSWORD, name: "Alice" });
      assert.equal(error, null);
      assert.deepEqual(Object.keys(data).sort(), ["token", "user"]);
      assert.match(data.token, SESSION_TOKEN);
      assertUserShape(data.user);
      assert.equal(data.user.name, "Alice");
      assert.equal(data.user.email, email.toLowerCase(), "emails are stored lower-cased");
      // Cookie value = token "." base64(HMAC), URL-encoded; the bearer header carries it decoded.
      const cookie = alice.jar.get(SESSION_COOKIE);
      assert.ok(cookie?.startsWith(`${data.token}.`), `cookie ${cookie}`);
      assert.equal(alice.captured["set-auth-token"], decodeURIComponent(cookie));
    });

    test("sign-in (any e-mail case) opens a second, distinct session for the same user", async () => {
      const alice = await signUpNew("signin");
      const phone = makeClient(server.url);
      const { data, error } = await phone.client.signIn.email({
        email: alice.email.toUpperCase(),
        password: PASSWORD,
      });
      assert.equal(error, null);
      assert.deepEqual(Object.keys(data).sort(), ["redirect", "token", "user"]);
      assert.equal(data.redirect, false);
      assert.match(data.token, SESSION_TOKEN);
      assert.notEqual(data.token, alice.token);
      assert.deepEqual(data.user, alice.user);
      assert.ok(phone.jar.get(SESSION_COOKIE)?.startsWith(`${data.token}.`));
    });

    test("a wrong password and an unknown e-mail get the same 401", async () => {
      const alice = await signUpNew("wrongpw");
      for (const [email, password] of [[alice.email, "not the password"], [uniqueEmail("nobody"), PASSWORD]]) {
        const { data, error } = await makeClient(server.url).client.signIn.email({ email, password });
        assert.equal(data, null);
        assert.equal(error.status, 401);
        assert.equal(error.code, "INVALID_EMAIL_OR_PASSWORD");
        assert.equal(error.message, "Invalid email or password");
      }
    });

    test("signing up twice with one e-mail is a 422", async () => {
      const alice = await signUpNew("dup");
      const { data, error } = await makeClient(server.url).client.signUp.email({
        email: alice.email,
        password: PASSWORD,
        name: "Impostor",
      });
      assert.equal(data, null);
      assert.equal(error.status, 422);
      assert.equal(error.code, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
      assert.equal(error.message, "User already exists. Use another email.");
    });

    test("a password under 8 characters is a 400", async () => {
      const { data, error } = await makeClient(server.url).client.signUp.email({
        email: uniqueEmail("short"),
        password: "1234567",
        name: "Shorty",
      });
      assert.equal(data, null);
      assert.equal(error.status, 400);
      assert.equal(error.code, "PASSWORD_TOO_SHORT");
      assert.equal(error.message, "Password too short");
    });
  });

  describe("sessions", () => {
    test("get-session returns the session and user, with dates revived", async () => {
      const alice = await signUpNew("getsession");
      const before = Date.now();
      const { session, user } = await currentSession(alice);
      assert.deepEqual(Object.keys(session).sort(), SESSION_KEYS);
      assert.equal(session.token, alice.token);
      assert.equal(session.userId, alice.user.id);
      assert.match(session.id, SESSION_TOKEN);
      for (const key of ["expiresAt", "createdAt", "updatedAt"]) assert.ok(session[key] instanceof Date, key);
      // 7-day sessions (allow for clock skew and slow hashing).
      assert.ok(Math.abs(session.expiresAt.getTime() - (before + 7 * DAY_MS)) < 60_000, `${session.expiresAt}`);
      assert.equal(typeof session.ipAddress, "string");
      assert.equal(typeof session.userAgent, "string");
      assertUserShape(user);
      assert.deepEqual(user, alice.user);
    });

    test("get-session without a session is a 200 with null", async () => {
      const anonymous = makeClient(server.url);
      const { data, error } = await anonymous.client.getSession();
      assert.equal(error, null);
      assert.equal(data, null);
      assert.equal(anonymous.captured.lastResponse.status, 200);
    });

    test("list-sessions shows every device of the user, tokens included", async () => {
      const alice = await signUpNew("list");
      const phone = await signInNew(alice.email);
      const { data, error } = await alice.client.listSessions();
      assert.equal(error, null);
      assert.equal(data.length, 2);
      assert.deepEqual(data.map((s) => s.token).sort(), [alice.token, phone.token].sort());
      for (const session of data) {
        assert.deepEqual(Object.keys(session).sort(), SESSION_KEYS);
        assert.equal(session.userId, alice.user.id);
        assert.ok(session.expiresAt instanceof Date);
      }
    });

    test("revoke-session ends another device's session", async () => {
      const alice = await signUpNew("revoke");
      const phone = await signInNew(alice.email);
      const { data: sessions } = await alice.client.listSessions();
      const other = sessions.find((s) => s.token !== alice.token);
      assert.equal(other.token, phone.token);
      const { data, error } = await alice.client.revokeSession({ token: other.token });
      assert.equal(error, null);
      assert.deepEqual(data, { status: true });
      assert.equal(await currentSession(phone), null);
      assert.equal((await currentSession(alice)).session.token, alice.token);
    });

    test("revoke-other-sessions keeps only the caller's session", async () => {
      const alice = await signUpNew("revokeothers");
      const phone = await signInNew(alice.email);
      const laptop = await signInNew(alice.email);
      const { data, error } = await alice.client.revokeOtherSessions();
      assert.equal(error, null);
      assert.deepEqual(data, { status: true });
      assert.equal(await currentSession(phone), null);
      assert.equal(await currentSession(laptop), null);
      assert.equal((await currentSession(alice)).session.token, alice.token);
      const { data: left } = await alice.client.listSessions();
      assert.deepEqual(left.map((s) => s.token), [alice.token]);
    });

    test("revoke-sessions ends every session, the caller's too", async () => {
      const alice = await signUpNew("revokeall");
      const phone = await signInNew(alice.email);
      const { data, error } = await alice.client.revokeSessions();
      assert.equal(error, null);
      assert.deepEqual(data, { status: true });
      assert.equal(alice.jar.get(SESSION_COOKIE), undefined, "the caller's cookie is deleted");
      assert.equal(await currentSession(alice), null);
      assert.equal(await currentSession(phone), null);
    });

    test("sign-out deletes the cookie and the session itself", async () => {
      const alice = await signUpNew("signout");
      const cookie = alice.jar.get(SESSION_COOKIE);
      const { data, error } = await alice.client.signOut();
      assert.equal(error, null);
      assert.deepEqual(data, { success: true });
      assert.equal(alice.jar.get(SESSION_COOKIE), undefined);
      assert.equal(await currentSession(alice), null);
      // Replaying the old cookie must not work either: the session is gone server-side.
      const replay = makeClient(server.url);
      replay.jar.set(SESSION_COOKIE, cookie);
      assert.equal(await currentSession(replay), null);
    });

    test("the set-auth-token value works as a bearer token without cookies or Origin", async () => {
      const alice = await signUpNew("bearer");
      const bearer = makeClient(server.url);
      const auth = { type: "Bearer", token: alice.captured["set-auth-token"] };
      const { data } = await bearer.client.getSession({ fetchOptions: { auth } });
      assert.equal(data.session.token, alice.token);
      // Bearer requests carry no cookie, so no Origin check applies.
      const response = await fetch(`${server.url}/api/auth/update-user`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${alice.captured["set-auth-token"]}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ name: "Bearer Alice" }),
      });
      assert.equal(response.status, 200);
      assert.equal((await currentSession(alice)).user.name, "Bearer Alice");
    });

    test("a cookie-bearing POST without Origin is refused", async () => {
      const alice = await signUpNew("csrf");
      const response = await fetch(`${server.url}/api/auth/update-user`, {
        method: "POST",
        headers: { cookie: alice.jar.header(), "content-type": "application/json" },
        body: JSON.stringify({ name: "Forged" }),
      });
      assert.equal(response.status, 403);
      assert.deepEqual(await response.json(), {
        message: "Missing or null Origin",
        code: "MISSING_OR_NULL_ORIGIN",
      });
      assert.equal((await currentSession(alice)).user.name, "Test csrf");
    });
  });

  describe("account", () => {
    test("update-user changes the name that get-session returns", async () => {
      const alice = await signUpNew("update");
      const { data, error } = await alice.client.updateUser({ name: "Alice Renamed" });
      assert.equal(error, null);
      assert.deepEqual(data, { status: true });
      const { user } = await currentSession(alice);
      assert.equal(user.name, "Alice Renamed");
      assert.ok(user.updatedAt >= alice.user.updatedAt);
    });

    test("change-password: the old password stops working, the new one works", async () => {
      const alice = await signUpNew("chpw");
      const phone = await signInNew(alice.email);
      const newPassword = "a brand new passphrase";
      const { data, error } = await alice.client.changePassword({ currentPassword: PASSWORD, newPassword });
      assert.equal(error, null);
      assert.equal(data.token, null, "no new session without revokeOtherSessions");
      assert.equal(data.user.id, alice.user.id);
      const old = await makeClient(server.url).client.signIn.email({ email: alice.email, password: PASSWORD });
      assert.equal(old.error.status, 401);
      assert.equal(old.error.code, "INVALID_EMAIL_OR_PASSWORD");
      await signInNew(alice.email, newPassword);
      assert.notEqual(await currentSession(phone), null, "other sessions survive by default");
    });

    test("change-password with a wrong current password is a 400", async () => {
      const alice = await signUpNew("chpwbad");
      const { data, error } = await alice.client.changePassword({
        currentPassword: "not the password",
        newPassword: "a brand new passphrase",
      });
      assert.equal(data, null);
      assert.equal(error.status, 400);
      assert.equal(error.code, "INVALID_PASSWORD");
    });

    test("change-password with revokeOtherSessions ends the other devices and renews the caller", async () => {
      const alice = await signUpNew("chpwrevoke");
      const phone = await signInNew(alice.email);
      const newPassword = "another brand new passphrase";
      const { data, error } = await alice.client.changePassword({
        currentPassword: PASSWORD,
        newPassword,
        revokeOtherSessions: true,
      });
      assert.equal(error, null);
      assert.match(data.token, SESSION_TOKEN);
      assert.notEqual(data.token, alice.token, "the caller gets a new session");
      assert.equal(await currentSession(phone), null);
      assert.equal((await currentSession(alice)).session.token, data.token);
      await signInNew(alice.email, newPassword);
    });
  });

  describe("jwt plugin", () => {
    test("token() returns an EdDSA JWT for the user that verifies against /jwks", async () => {
      const alice = await signUpNew("jwt");
      const { data, error } = await alice.client.token();
      assert.equal(error, null);
      const origin = new URL(server.url).origin;
      const jwks = createRemoteJWKSet(new URL(`${server.url}/api/auth/jwks`));
      const { payload, protectedHeader } = await jwtVerify(data.token, jwks, {
        algorithms: ["EdDSA"],
        issuer: origin,
        audience: origin,
      });
      assert.equal(protectedHeader.alg, "EdDSA");
      assert.match(protectedHeader.kid, SESSION_TOKEN);
      assert.equal(payload.sub, alice.user.id);
      assert.equal(payload.exp - payload.iat, 900);
      assert.equal(payload.email, alice.email);
      assert.equal(payload.id, alice.user.id);
    });

    test("jwks() lists the Ed25519 public key, and get-session hands out a JWT too", async () => {
      const alice = await signUpNew("jwks");
      const { data, error } = await alice.client.jwks();
      assert.equal(error, null);
      assert.ok(data.keys.length >= 1);
      for (const key of data.keys) {
        assert.deepEqual(
          { alg: key.alg, crv: key.crv, kty: key.kty },
          { alg: "EdDSA", crv: "Ed25519", kty: "OKP" },
        );
        assert.match(key.x, /^[A-Za-z0-9_-]{43}$/, "32 bytes, base64url without padding");
        assert.equal(key.d, undefined, "no private part");
      }
      await currentSession(alice);
      const jwt = alice.captured["set-auth-jwt"];
      assert.ok(jwt, "get-session sets set-auth-jwt");
      assert.ok(data.keys.some((key) => key.kid === decodeProtectedHeader(jwt).kid));
      const origin = new URL(server.url).origin;
      const jwks = createRemoteJWKSet(new URL(`${server.url}/api/auth/jwks`));
      const { payload } = await jwtVerify(jwt, jwks, { issuer: origin, audience: origin });
      assert.equal(payload.sub, alice.user.id);
    });

    test("token() without a session is a 401", async () => {
      const { data, error } = await makeClient(server.url).client.token();
      assert.equal(data, null);
      assert.equal(error.status, 401);
      assert.equal(error.code, "UNAUTHORIZED");
    });
  });
});
