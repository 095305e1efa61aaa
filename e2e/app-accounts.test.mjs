// The chat app in real Chromium against a real Chatkeep and PostgreSQL, driven the way a person
// uses it: by roles, labels and visible text. Accounts: signing up, in and out, errors at the field,
// a protected page, changing the password, deleting the account, sessions.
//
// The servers are lib/app-suite.mjs's; the helpers (contexts of their own with their own client
// IP, sign-up, ask, …) are in lib/app.mjs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  ask,
  assertNoErrors,
  fillSignUp,
  history,
  messageBox,
  newChatButton,
  newUser,
  openContext,
  signIn,
  signUp,
  sleep,
  submitSignIn,
  tag,
  TEST,
  until,
  visible,
  WAIT,
  waitForAnswerDone,
} from "./lib/app.mjs";
import { startServers, stopServers } from "./lib/app-suite.mjs";

/** Chatkeep with the built-in retrieval agent. */
let main;

before(async () => {
  ({ main } = await startServers("main"));
});

after(() => stopServers({ main }));

test("signing up lands in an empty chat with a friendly empty history", TEST, async (t) => {
  const s = await openContext(t, main);
  await signUp(s.page, newUser());
  assert.equal(new URL(s.page.url()).pathname, "/");
  await visible(history(s.page).getByText("No conversations yet"));
  await visible(messageBox(s.page));
  assert.equal(await s.page.getByRole("article").count(), 0);
  assertNoErrors(s);
});

test("sign-up and sign-in errors show at the field", TEST, async (t) => {
  const first = await openContext(t, main);
  const user = await signUp(first.page, newUser());

  const s = await openContext(t, main);
  let signUpRequests = 0;
  s.page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/auth/sign-up/email") signUpRequests += 1;
  });
  await s.page.goto("/sign-up");
  await fillSignUp(s.page, { ...user, name: "Someone Else" });
  await visible(s.page.getByText(/already exists/i));
  assert.equal(signUpRequests, 1);
  assert.equal(new URL(s.page.url()).pathname, "/sign-up");

  await fillSignUp(s.page, { name: "Short Password", email: `u-${tag()}@example.com`, password: "seven77" });
  await visible(s.page.getByText(/at least 8/i));
  await sleep(300);
  assert.equal(signUpRequests, 1, "a too-short password is refused before anything is sent");
  assert.equal(new URL(s.page.url()).pathname, "/sign-up");

  await s.page.goto("/sign-in");
  await submitSignIn(s.page, { email: user.email, password: "not the password" });
  await visible(s.page.getByText(/invalid email or password/i));
  assert.equal(new URL(s.page.url()).pathname, "/sign-in");
  assertNoErrors(first, s);
});

test("signing out and in again shows the conversations again", TEST, async (t) => {
  const s = await openContext(t, main);
  const user = await signUp(s.page, newUser());
  const question = `How do I sign out, ${tag()}?`;
  await ask(s.page, question);
  await waitForAnswerDone(s.page);

  await s.page.getByRole("button", { name: "Sign out", exact: true }).click();
  await visible(s.page.getByRole("heading", { name: "Sign in", exact: true }));
  await visible(s.page.getByLabel("Email", { exact: true }));
  await visible(s.page.getByLabel("Password", { exact: true }));
  await visible(s.page.getByRole("checkbox", { name: "Remember me" }));

  await signIn(s.page, user);
  await visible(history(s.page).getByRole("link", { name: question, exact: true }));
  assertNoErrors(s);
});

test("a protected page sends a signed-out visitor to sign in and back", TEST, async (t) => {
  const owner = await openContext(t, main);
  const user = await signUp(owner.page, newUser());

  const s = await openContext(t, main);
  await s.page.goto("/settings");
  await s.page.waitForURL((url) => url.pathname === "/sign-in", { timeout: WAIT });
  assert.match(s.page.url(), /[?&]next=%2Fsettings(&|$)/);
  await signIn(s.page, user);
  await s.page.waitForURL((url) => url.pathname === "/settings", { timeout: WAIT });
  await visible(s.page.getByRole("heading", { name: "Profile" }));
  assertNoErrors(owner, s);
});

test("a 401 mid-session sends to sign in and keeps the draft", TEST, async (t) => {
  const s = await openContext(t, main);
  const user = await signUp(s.page, newUser());
  // History has loaded, so the Send below is the first call to meet the missing cookie.
  await visible(history(s.page).getByText("No conversations yet"));
  await s.context.clearCookies();
  const draft = "my precious draft";
  await messageBox(s.page).fill(draft);
  await s.page.getByRole("button", { name: "Send", exact: true }).click();
  await s.page.waitForURL((url) => url.pathname === "/sign-in", { timeout: WAIT });

  await signIn(s.page, user);
  await visible(messageBox(s.page));
  await until(async () => (await messageBox(s.page).inputValue()) === draft, "the draft to be back");
  assertNoErrors(s);
});

test("changing the password with 'sign out other devices' signs the other device out", TEST, async (t) => {
  const a = await openContext(t, main);
  const user = await signUp(a.page, newUser());
  const b = await openContext(t, main);
  await signIn(b.page, user);
  await visible(newChatButton(b.page));

  const newPassword = "battery staple horse correct";
  await a.page.getByRole("link", { name: "Settings" }).click();
  await a.page.getByLabel("Current password", { exact: true }).fill(user.password);
  await a.page.getByLabel("New password", { exact: true }).fill(newPassword);
  await a.page.getByRole("checkbox", { name: "Sign out other devices" }).check();
  await a.page.getByRole("button", { name: "Change password" }).click();
  await visible(a.page.getByText(/password changed/i));

  await b.page.reload();
  await b.page.waitForURL((url) => url.pathname === "/sign-in", { timeout: WAIT });
  await visible(b.page.getByRole("heading", { name: "Sign in", exact: true }));
  await signIn(b.page, { email: user.email, password: newPassword });
  await visible(newChatButton(b.page));

  // The device that changed the password stays signed in.
  await a.page.reload();
  await visible(a.page.getByRole("heading", { name: "Profile" }));
  assert.equal(new URL(a.page.url()).pathname, "/settings");
  assertNoErrors(a, b);
});

test("signing out in one tab signs out the other tabs", TEST, async (t) => {
  const s = await openContext(t, main);
  await signUp(s.page, newUser());
  const other = await s.context.newPage();
  await other.goto("/");
  await visible(newChatButton(other));
  await other.evaluate(() => (window.__marker = "same document"));

  await s.page.getByRole("button", { name: "Sign out", exact: true }).click();
  await visible(s.page.getByRole("heading", { name: "Sign in", exact: true }));
  await visible(other.getByRole("heading", { name: "Sign in", exact: true }));
  assert.equal(await other.evaluate(() => window.__marker), "same document", "the other tab was not reloaded");
  assertNoErrors(s);
});

test("deleting the account signs out and the account is gone", TEST, async (t) => {
  const s = await openContext(t, main);
  const user = await signUp(s.page, newUser());
  await s.page.getByRole("link", { name: "Settings" }).click();
  await s.page.getByLabel("Type your email to confirm").fill(user.email);
  await s.page.getByLabel("Your password").fill(user.password);
  await s.page.getByRole("button", { name: "Delete account", exact: true }).click();
  await s.page.waitForURL((url) => url.pathname === "/sign-in", { timeout: WAIT });
  await visible(s.page.getByText(/account .*deleted/i));

  await submitSignIn(s.page, user);
  await visible(s.page.getByText(/invalid email or password/i));
  assertNoErrors(s);
});

test("settings lists this device's session", TEST, async (t) => {
  const s = await openContext(t, main);
  await signUp(s.page, newUser());
  await s.page.getByRole("link", { name: "Settings" }).click();
  await visible(s.page.getByRole("heading", { name: "Sessions" }));
  await visible(s.page.getByRole("list").getByRole("listitem").filter({ hasText: "This device" }));
  await visible(s.page.getByRole("button", { name: "Sign out of all other devices" }));
  assertNoErrors(s);
});
