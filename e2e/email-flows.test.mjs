// The official client's email flows (requestPasswordReset, resetPassword, sendVerificationEmail,
// verifyEmail, changeEmail) over real SMTP: each server sends its mail to an SMTP server this
// file starts, and the tests read what arrives and follow its links as a person would.
// AUTH_TARGET=better-auth runs the same tests against the real Better Auth, configured as
// Chatkeep's defaults are (lib/better-auth-peer.mjs), which proves the expectations.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { authTarget, newSecret, startChatkeepAuth } from "./lib/auth-target.mjs";
import { startBetterAuth } from "./lib/better-auth-peer.mjs";
import { makeClient, SESSION_COOKIE } from "./lib/client.mjs";
import { linkIn, startSmtpSink } from "./lib/smtp-sink.mjs";

const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "staple battery horse correct";
const RESET = /^Reset your Chatkeep password$/;
const VERIFY = /^Verify your email address for Chatkeep$/;
const CONFIRM_CHANGE = /^Confirm the change of your Chatkeep email address$/;
/** The mail to the new address of a change: Better Auth sends it with its verification sender. */
const ANY = /./;
/** How long a mail that must not come is waited for. */
const QUIET_MS = 1500;

const target = authTarget();
let sink;
/** EMAIL_VERIFICATION=optional (the default) and =required. */
const servers = {};

function uniqueEmail(label) {
  return `${label}-${Date.now()}-${randomBytes(4).toString("hex")}@example.com`;
}

async function start(required) {
  const secret = newSecret();
  if (target === "better-auth") {
    const peer = await startBetterAuth({ secret, mail: { smtpUrl: sink.url, requireEmailVerification: required } });
    return { url: peer.url, secret, close: () => peer.close() };
  }
  const chatkeep = await startChatkeepAuth({
    secret,
    env: {
      SMTP_URL: sink.url,
      EMAIL_VERIFICATION: required ? "required" : "optional",
      METRICS_TOKEN,
    },
  });
  return { url: chatkeep.url, secret, close: chatkeep.close };
}

const METRICS_TOKEN = "email-flows-metrics-token";
const FLOW_ROUTES = /route="\/api\/auth\/(send-verification-email|verify-email|request-password-reset|reset-password|reset-password\/\{token\}|change-email|sign-up\/email|sign-in\/email)"/;

/** What the run did, from Chatkeep's own request counters and the SMTP server's inbox. */
async function report() {
  const counts = new Map();
  for (const server of Object.values(servers)) {
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    for (const line of (await response.text()).split("\n")) {
      if (!line.startsWith("chatkeep_http_requests_total{") || !FLOW_ROUTES.test(line)) continue;
      const route = /route="([^"]+)"/.exec(line)[1];
      const status = /status="(\d+)"/.exec(line)[1];
      const method = /method="(\w+)"/.exec(line)[1];
      const key = `${method} ${route} ${status}`;
      counts.set(key, (counts.get(key) ?? 0) + Number(line.split(" ").pop()));
    }
  }
  const lines = [...counts].sort().map(([key, n]) => `  ${key}: ${n}`);
  console.log(`email flows against chatkeep: ${sink.messages.length} mails received by the SMTP server; requests by route and status:\n${lines.join("\n")}`);
}

/** A new account on `server`, signed up through a fresh client; its verification mail read. */
async function signUpNew(server, label) {
  const email = uniqueEmail(label);
  const device = makeClient(server.url);
  const { data, error } = await device.client.signUp.email({ email, password: PASSWORD, name: `Test ${label}` });
  assert.equal(error, null, `sign-up failed: ${JSON.stringify(error)}`);
  const mail = await sink.waitFor(email, VERIFY);
  return { ...device, email, user: data.user, token: data.token, verification: mail };
}

/** Opens `link` as a browser would with `device`'s cookies, without following a redirect. */
async function follow(device, link) {
  const headers = {};
  const cookie = device?.jar.header();
  if (cookie) headers.cookie = cookie;
  const response = await fetch(link, { redirect: "manual", headers });
  device?.jar.store(response.headers);
  const text = await response.text();
  return { status: response.status, location: response.headers.get("location"), body: text ? JSON.parse(text) : null };
}

/** The token in a verification link. */
const tokenOf = (link) => new URL(link).searchParams.get("token");

/** Mail to `to` that arrives within QUIET_MS, if any (for mail that must not be sent). */
async function mailWithin(to, after) {
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  return sink.messages.slice(after).filter((m) => m.envelopeTo.includes(to.toLowerCase()));
}

/** An HS256 JWT over `payload`, signed with `secret`, as both servers sign email tokens. */
function signJwt(payload, secret) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${encode({ alg: "HS256" })}.${encode(payload)}`;
  return `${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`;
}

describe(`the official client's email flows against ${target}`, () => {
  before(async () => {
    sink = await startSmtpSink();
    [servers.optional, servers.required] = await Promise.all([start(false), start(true)]);
  });

  after(async () => {
    if (target === "chatkeep") await report().catch((e) => console.log(`no report: ${e.message}`));
    await Promise.all(Object.values(servers).map((s) => s.close()));
    await sink?.stop();
  });

  describe("password reset", () => {
    test("requestPasswordReset mails a link; resetPassword sets the password and signs every device out", async () => {
      const server = servers.optional;
      const alice = await signUpNew(server, "reset");
      const phone = makeClient(server.url);
      assert.equal((await phone.client.signIn.email({ email: alice.email, password: PASSWORD })).error, null);

      const stranger = makeClient(server.url);
      const asked = await stranger.client.requestPasswordReset({ email: alice.email.toUpperCase(), redirectTo: "/reset" });
      assert.equal(asked.error, null);
      assert.deepEqual(asked.data, {
        status: true,
        message: "If this email exists in our system, check your email for the reset link",
      });
      const mail = await sink.waitFor(alice.email, RESET);
      const link = linkIn(mail, "/api/auth/reset-password/");
      const url = new URL(link);
      assert.equal(url.origin, server.url);
      assert.equal(url.searchParams.get("callbackURL"), "/reset");
      const token = url.pathname.split("/").pop();
      assert.match(token, /^[A-Za-z0-9]{24}$/);

      // The link sends the browser to the app's page with the token; it does not use it up.
      const opened = await follow(null, link);
      assert.equal(opened.status, 302);
      assert.equal(opened.location, `${server.url}/reset?token=${token}`);

      // The same length rules as sign-up, checked before the token is spent.
      const short = await stranger.client.resetPassword({ newPassword: "short", token });
      assert.equal(short.error?.status, 400);
      assert.equal(short.error?.code, "PASSWORD_TOO_SHORT");

      const reset = await stranger.client.resetPassword({ newPassword: NEW_PASSWORD, token });
      assert.equal(reset.error, null);
      assert.deepEqual(reset.data, { status: true });

      assert.equal((await alice.client.getSession()).data, null, "the signed-up session ended");
      assert.equal((await phone.client.getSession()).data, null, "the other device's session ended");
      const old = await makeClient(server.url).client.signIn.email({ email: alice.email, password: PASSWORD });
      assert.equal(old.error?.code, "INVALID_EMAIL_OR_PASSWORD");
      const fresh = await makeClient(server.url).client.signIn.email({ email: alice.email, password: NEW_PASSWORD });
      assert.equal(fresh.error, null);

      // One use: the token is gone, and its link now says so.
      const again = await stranger.client.resetPassword({ newPassword: `${NEW_PASSWORD} again`, token });
      assert.equal(again.error?.status, 400);
      assert.equal(again.error?.code, "INVALID_TOKEN");
      const reopened = await follow(null, link);
      assert.equal(reopened.status, 302);
      assert.equal(reopened.location, `${server.url}/reset?error=INVALID_TOKEN`);
    });

    test("an unknown address gets the same answer and no mail; a made-up token is refused", async () => {
      const server = servers.optional;
      const nobody = uniqueEmail("nobody");
      const before = sink.messages.length;
      const { data, error } = await makeClient(server.url).client.requestPasswordReset({ email: nobody, redirectTo: "/reset" });
      assert.equal(error, null);
      assert.deepEqual(data, {
        status: true,
        message: "If this email exists in our system, check your email for the reset link",
      });
      assert.deepEqual(await mailWithin(nobody, before), []);

      const madeUp = await makeClient(server.url).client.resetPassword({ newPassword: NEW_PASSWORD, token: "A".repeat(24) });
      assert.equal(madeUp.error?.status, 400);
      assert.equal(madeUp.error?.code, "INVALID_TOKEN");
      const link = await follow(null, `${server.url}/api/auth/reset-password/${"A".repeat(24)}?callbackURL=%2Freset`);
      assert.equal(link.location, `${server.url}/reset?error=INVALID_TOKEN`);
    });

    test("a reset link whose callbackURL leaves the trusted origins is refused", async () => {
      const server = servers.optional;
      const asked = await makeClient(server.url).client.requestPasswordReset({
        email: uniqueEmail("away"),
        redirectTo: "https://evil.example/steal",
      });
      assert.equal(asked.error?.status, 403);
      assert.equal(asked.error?.code, "INVALID_REDIRECT_URL");
      const link = await follow(null, `${server.url}/api/auth/reset-password/${"B".repeat(24)}?callbackURL=https%3A%2F%2Fevil.example%2F`);
      assert.equal(link.status, 403);
      assert.equal(link.body.code, "INVALID_CALLBACK_URL");
    });
  });

  describe("email verification", () => {
    test("sign-up mails a link; verifyEmail verifies the address", async () => {
      const server = servers.optional;
      const alice = await signUpNew(server, "verify");
      assert.equal(alice.user.emailVerified, false);
      assert.ok(alice.token, "with verification optional, sign-up signs in");
      const link = linkIn(alice.verification, "/api/auth/verify-email");
      assert.equal(new URL(link).searchParams.get("callbackURL"), "/");

      const { data, error } = await alice.client.verifyEmail({ query: { token: tokenOf(link) } });
      assert.equal(error, null);
      assert.deepEqual(data, { status: true, user: null });
      assert.equal((await alice.client.getSession()).data.user.emailVerified, true);

      // Verified: asking again is refused for the signed-in owner.
      const again = await alice.client.sendVerificationEmail({ email: alice.email });
      assert.equal(again.error?.status, 400);
      assert.equal(again.error?.code, "EMAIL_ALREADY_VERIFIED");
    });

    test("sendVerificationEmail mails a fresh link; signed out it answers alike for every address", async () => {
      const server = servers.optional;
      const alice = await signUpNew(server, "resend");
      const before = sink.messages.length;
      const sent = await alice.client.sendVerificationEmail({ email: alice.email, callbackURL: "/verified" });
      assert.equal(sent.error, null);
      assert.deepEqual(sent.data, { status: true });
      const mail = await sink.waitFor(alice.email, VERIFY, { after: before });
      const link = linkIn(mail, "/api/auth/verify-email");
      assert.equal(new URL(link).searchParams.get("callbackURL"), "/verified");

      const someoneElse = await alice.client.sendVerificationEmail({ email: uniqueEmail("other") });
      assert.equal(someoneElse.error?.status, 400);
      assert.equal(someoneElse.error?.code, "EMAIL_MISMATCH");

      const nobody = uniqueEmail("nobody");
      const anonymous = makeClient(server.url);
      const mark = sink.messages.length;
      for (const email of [alice.email, nobody]) {
        const { data, error } = await anonymous.client.sendVerificationEmail({ email });
        assert.equal(error, null);
        assert.deepEqual(data, { status: true });
      }
      assert.deepEqual(await mailWithin(nobody, mark), [], "no mail to an address without an account");
      await sink.waitFor(alice.email, VERIFY, { after: mark });

      // With a callbackURL the link redirects there, signed in.
      const browser = makeClient(server.url);
      const followed = await follow(browser, link);
      assert.equal(followed.status, 302);
      assert.equal(followed.location, "/verified");
      const session = (await browser.client.getSession()).data;
      assert.equal(session.user.email, alice.email);
      assert.equal(session.user.emailVerified, true);
    });

    test("tampered, foreign and wrongly-addressed verification tokens are refused", async () => {
      const server = servers.optional;
      const alice = await signUpNew(server, "tamper");
      const token = tokenOf(linkIn(alice.verification, "/api/auth/verify-email"));
      const [header, payload, signature] = token.split(".");
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
      const bob = await signUpNew(server, "bob");
      const swapped = Buffer.from(JSON.stringify({ ...claims, email: bob.email })).toString("base64url");
      const attempts = {
        "a changed payload": `${header}.${swapped}.${signature}`,
        "another secret": signJwt(claims, newSecret()),
        "a cut signature": token.slice(0, -4),
      };
      for (const [what, bad] of Object.entries(attempts)) {
        const { error } = await makeClient(server.url).client.verifyEmail({ query: { token: bad } });
        assert.equal(error?.status, 401, what);
        assert.equal(error?.code, "INVALID_TOKEN", what);
        const redirected = await follow(null, `${server.url}/api/auth/verify-email?token=${bad}&callbackURL=%2Fdone`);
        assert.equal(redirected.location, "/done?error=INVALID_TOKEN", what);
      }
      const expired = signJwt({ ...claims, iat: claims.iat - 7200, exp: claims.iat - 3600 }, server.secret);
      const late = await makeClient(server.url).client.verifyEmail({ query: { token: expired } });
      assert.equal(late.error?.status, 401);
      assert.equal(late.error?.code, "TOKEN_EXPIRED");
      const elsewhere = await follow(null, `${server.url}/api/auth/verify-email?token=${token}&callbackURL=https%3A%2F%2Fevil.example%2F`);
      assert.equal(elsewhere.status, 403);
      assert.equal(elsewhere.body.code, "INVALID_CALLBACK_URL");
      // Nothing of that verified anyone.
      assert.equal((await alice.client.getSession()).data.user.emailVerified, false);
      assert.equal((await bob.client.getSession()).data.user.emailVerified, false);
    });

    test("with verification required: no session until the link is followed, and sign-in says why", async () => {
      const server = servers.required;
      const email = uniqueEmail("required");
      const device = makeClient(server.url);
      const signedUp = await device.client.signUp.email({ email, password: PASSWORD, name: "Required", callbackURL: "/welcome" });
      assert.equal(signedUp.error, null);
      assert.equal(signedUp.data.token, null);
      assert.equal(device.jar.get(SESSION_COOKIE), undefined);
      const first = await sink.waitFor(email, VERIFY);
      assert.equal(new URL(linkIn(first, "/api/auth/verify-email")).searchParams.get("callbackURL"), "/welcome");

      // A taken address gets the same answer as a new one.
      const taken = await makeClient(server.url).client.signUp.email({ email, password: PASSWORD, name: "Again" });
      assert.equal(taken.error, null);
      assert.equal(taken.data.token, null);
      assert.equal(taken.data.user.email, email);

      const mark = sink.messages.length;
      const refused = await device.client.signIn.email({ email, password: PASSWORD, callbackURL: "/again" });
      assert.equal(refused.error?.status, 403);
      assert.equal(refused.error?.code, "EMAIL_NOT_VERIFIED");
      assert.equal(device.jar.get(SESSION_COOKIE), undefined);
      const fresh = await sink.waitFor(email, VERIFY, { after: mark });
      const link = linkIn(fresh, "/api/auth/verify-email");
      assert.equal(new URL(link).searchParams.get("callbackURL"), "/again");
      const wrong = await makeClient(server.url).client.signIn.email({ email, password: "not the password" });
      assert.equal(wrong.error?.code, "INVALID_EMAIL_OR_PASSWORD", "the password is checked first");

      const followed = await follow(device, link);
      assert.equal(followed.status, 302);
      assert.equal(followed.location, "/again");
      const session = (await device.client.getSession()).data;
      assert.equal(session.user.emailVerified, true, "the link signed the browser in");
      const signedIn = await makeClient(server.url).client.signIn.email({ email, password: PASSWORD });
      assert.equal(signedIn.error, null);
    });
  });

  describe("change of email", () => {
    test("a verified address confirms from its inbox, then the new address verifies, then it changes", async () => {
      const server = servers.optional;
      const alice = await signUpNew(server, "move");
      await follow(alice, linkIn(alice.verification, "/api/auth/verify-email"));
      assert.equal((await alice.client.getSession()).data.user.emailVerified, true);
      const newEmail = uniqueEmail("moved");

      const same = await alice.client.changeEmail({ newEmail: alice.email.toUpperCase() });
      assert.equal(same.error?.status, 400);
      assert.equal(same.error?.message, "Email is the same");

      const { data, error } = await alice.client.changeEmail({ newEmail, callbackURL: "/settings" });
      assert.equal(error, null);
      assert.deepEqual(data, { status: true });
      const confirm = await sink.waitFor(alice.email, CONFIRM_CHANGE);
      const confirmLink = linkIn(confirm, "/api/auth/verify-email");
      assert.equal((await alice.client.getSession()).data.user.email, alice.email, "nothing changed yet");

      // Following the old inbox's link while signed in as someone else is refused.
      const bob = await signUpNew(server, "intruder");
      const intruded = await follow(bob, confirmLink);
      assert.equal(intruded.location, "/settings?error=INVALID_USER");

      // Confirmed through the client (JSON): the new address is sent a link leading to "/".
      let mark = sink.messages.length;
      const confirmed = await alice.client.verifyEmail({ query: { token: tokenOf(confirmLink) } });
      assert.equal(confirmed.error, null);
      assert.deepEqual(confirmed.data, { status: true });
      const viaClient = await sink.waitFor(newEmail, ANY, { after: mark });
      assert.equal(new URL(linkIn(viaClient, "/api/auth/verify-email")).searchParams.get("callbackURL"), "/");
      // Confirmed from the mail, as a browser opens it: the link keeps its callbackURL.
      mark = sink.messages.length;
      const opened = await follow(alice, confirmLink);
      assert.equal(opened.status, 302);
      assert.equal(opened.location, "/settings");
      const verify = await sink.waitFor(newEmail, ANY, { after: mark });
      const verifyLink = linkIn(verify, "/api/auth/verify-email");
      assert.equal(new URL(verifyLink).searchParams.get("callbackURL"), "/settings");
      assert.equal((await alice.client.getSession()).data.user.email, alice.email, "still nothing changed");

      const done = await follow(alice, verifyLink);
      assert.equal(done.status, 302);
      assert.equal(done.location, "/settings");
      const user = (await alice.client.getSession()).data.user;
      assert.equal(user.email, newEmail);
      assert.equal(user.emailVerified, true, "a verified account stays verified");
      const signedIn = await makeClient(server.url).client.signIn.email({ email: newEmail, password: PASSWORD });
      assert.equal(signedIn.error, null);
      const oldAddress = await makeClient(server.url).client.signIn.email({ email: alice.email, password: PASSWORD });
      assert.equal(oldAddress.error?.code, "INVALID_EMAIL_OR_PASSWORD");

      // A second click changes nothing.
      const twice = await alice.client.verifyEmail({ query: { token: tokenOf(verifyLink) } });
      assert.equal(twice.error?.code, "INVALID_TOKEN");
    });

    test("an unverified address is asked nothing: the new address gets the link", async () => {
      const server = servers.optional;
      const alice = await signUpNew(server, "unverified-move");
      const newEmail = uniqueEmail("new-home");
      const mark = sink.messages.length;
      const { error } = await alice.client.changeEmail({ newEmail });
      assert.equal(error, null);
      const mail = await sink.waitFor(newEmail, ANY, { after: mark });
      assert.equal(
        sink.messages.slice(mark).filter((m) => m.envelopeTo.includes(alice.email)).length,
        0,
        "the old address is not asked",
      );
      const { data } = await alice.client.verifyEmail({ query: { token: tokenOf(linkIn(mail, "/api/auth/verify-email")) } });
      assert.equal(data.user.email, newEmail);
      const user = (await alice.client.getSession()).data.user;
      assert.equal(user.email, newEmail);
      assert.equal(user.emailVerified, false, "an unverified account stays unverified");
    });

    test("an address that is taken gets the same answer and no mail", async () => {
      const server = servers.optional;
      const alice = await signUpNew(server, "grabber");
      const bob = await signUpNew(server, "holder");
      const mark = sink.messages.length;
      const { data, error } = await alice.client.changeEmail({ newEmail: bob.email });
      assert.equal(error, null);
      assert.deepEqual(data, { status: true });
      assert.deepEqual(await mailWithin(bob.email, mark), []);
      assert.deepEqual(await mailWithin(alice.email, mark), []);
      assert.equal((await alice.client.getSession()).data.user.email, alice.email);
    });

    test("changeEmail needs a session", async () => {
      const { error } = await makeClient(servers.optional.url).client.changeEmail({ newEmail: uniqueEmail("anon") });
      assert.equal(error?.status, 401);
    });
  });
});
