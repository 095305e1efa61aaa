// The account flows that go through a mailbox, in real Chromium, with real mail: each Chatkeep
// here sends to an SMTP server this file starts, and the tests open the links that arrive as a
// person opens them from their inbox. Forgot password, email verification (optional: a banner;
// required: "Check your inbox"), change of email in Settings; screenshots of every new page,
// wide and 390 px, light and dark; axe-core on each.
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  assertNoErrors,
  axeViolations,
  closeBrowser,
  fillSignUp,
  gone,
  messageBox,
  newChatButton,
  newUser,
  openBrowser,
  openContext,
  signIn,
  signUp,
  submitSignIn,
  TEST,
  until,
  visible,
  WAIT,
} from "./lib/app.mjs";
import { startChatkeep } from "./lib/chatkeep.mjs";
import { linkIn, startSmtpSink } from "./lib/smtp-sink.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const screenshotDir = process.env.SCREENSHOT_DIR ?? path.join(root, "target", "screenshots");

const RESET = /^Reset your Chatkeep password$/;
const VERIFY = /^Verify your email address for Chatkeep$/;
const CONFIRM_CHANGE = /^Confirm the change of your Chatkeep email address$/;
const NEW_ADDRESS = /^Confirm your new email address for Chatkeep$/;

let sink;
/** EMAIL_VERIFICATION=optional (the default): the account works at once, a banner asks. */
let main;
/** EMAIL_VERIFICATION=required: no session until the address is verified. */
let strict;

before(async () => {
  sink = await startSmtpSink();
  const env = { CHATKEEP_TRUSTED_PROXIES: "127.0.0.1", SMTP_URL: sink.url };
  [main, strict] = await Promise.all([
    startChatkeep({ env }),
    startChatkeep({ env: { ...env, EMAIL_VERIFICATION: "required" } }),
    openBrowser(),
  ]);
});

after(async () => {
  await closeBrowser();
  await Promise.all([main?.stop(), strict?.stop()]);
  await sink?.stop();
});

const heading = (page, name) => page.getByRole("heading", { name, exact: true });
const banner = (page) => page.getByRole("region", { name: "Verify your email address" });

/** The link of the `nth` mail (0: the first) to `to` whose subject matches. */
async function mailedLink(to, subject, part, { after = 0 } = {}) {
  return linkIn(await sink.waitFor(to, subject, { after }), part);
}

/** Opens the verification link that signing up mailed to `user`, in `page`. */
async function verifyFromInbox(page, user) {
  await page.goto(await mailedLink(user.email, VERIFY, "/api/auth/verify-email"));
  await visible(heading(page, "Your email address is verified"));
}

test("forgot password: the mailed link opens 'Choose a new password', and every other device is signed out", TEST, async (t) => {
  const laptop = await openContext(t, main);
  const user = await signUp(laptop.page, newUser("Forgetful"));
  const phone = await openContext(t, main);
  await signIn(phone.page, user);
  await visible(newChatButton(phone.page));

  const s = await openContext(t, main);
  const { page } = s;
  await page.goto("/sign-in");
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await visible(heading(page, "Reset your password"));
  await page.getByLabel("Email", { exact: true }).fill(user.email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await visible(heading(page, "Check your inbox"));
  await visible(page.getByText(user.email));

  const link = await mailedLink(user.email, RESET, "/api/auth/reset-password/");
  await page.goto(link);
  await visible(heading(page, "Choose a new password"));
  assert.equal(new URL(page.url()).pathname, "/reset-password");
  await visible(page.getByText("Choosing a new password signs you out on every device."));

  // The rules of sign-up, and the two fields must agree.
  const newPassword = "a brand new passphrase";
  await page.getByLabel("New password", { exact: true }).fill("short");
  await page.getByLabel("Confirm new password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Set new password" }).click();
  await visible(page.getByText(/at least 8/i));
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByLabel("Confirm new password", { exact: true }).fill(`${newPassword}!`);
  await page.getByRole("button", { name: "Set new password" }).click();
  await visible(page.getByText("The two passwords are not the same."));
  await page.getByLabel("Confirm new password", { exact: true }).fill(newPassword);
  await page.getByRole("button", { name: "Set new password" }).click();

  await page.waitForURL((url) => url.pathname === "/sign-in", { timeout: WAIT });
  await visible(page.getByText(/every device that was signed in is signed out/));
  await submitSignIn(page, { email: user.email, password: user.password });
  await visible(page.getByText(/invalid email or password/i));
  await signIn(page, { email: user.email, password: newPassword });
  await visible(messageBox(page));

  for (const device of [laptop, phone]) {
    await device.page.reload();
    await device.page.waitForURL((url) => url.pathname === "/sign-in", { timeout: WAIT });
  }

  // The link works once.
  await page.goto(link);
  await visible(heading(page, "This link does not work"));
  await visible(page.getByRole("link", { name: "Ask for a new link" }));
  assertNoErrors(laptop, phone, s);
});

test("forgot password for an address without an account says the same, and mails nothing", TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  const nobody = newUser("Nobody").email;
  const before = sink.messages.length;
  await page.goto("/forgot-password");
  await page.getByLabel("Email", { exact: true }).fill(nobody);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await visible(heading(page, "Check your inbox"));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.deepEqual(sink.messages.slice(before).filter((m) => m.envelopeTo.includes(nobody)), []);
  assertNoErrors(s);
});

test("with verification optional, a banner asks to verify; Resend mails again, Dismiss hides it, the link ends it", TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  const user = await signUp(page, newUser("Unverified"));
  await visible(banner(page));
  await visible(banner(page).getByText(user.email));
  const before = sink.messages.length;
  await banner(page).getByRole("button", { name: "Resend email" }).click();
  await visible(banner(page).getByRole("status").filter({ hasText: "Sent. Check your inbox." }));
  await sink.waitFor(user.email, VERIFY, { after: before });

  await banner(page).getByRole("button", { name: "Dismiss" }).click();
  await gone(banner(page));
  await page.reload();
  await visible(messageBox(page));
  assert.equal(await banner(page).count(), 0, "dismissed for this browser");

  const other = await openContext(t, main);
  await signIn(other.page, user);
  await visible(banner(other.page));
  await verifyFromInbox(other.page, user);
  await other.page.getByRole("link", { name: "Continue to Chatkeep" }).click();
  await visible(messageBox(other.page));
  assert.equal(await banner(other.page).count(), 0, "verified: no banner");
  await other.page.goto("/settings");
  await visible(other.page.getByRole("heading", { name: "Email", exact: true }));
  await visible(other.page.getByText("Verified", { exact: true }));
  assertNoErrors(s, other);
});

test("with verification required, sign-up ends on 'Check your inbox'; Resend counts down; the link signs in", TEST, async (t) => {
  const s = await openContext(t, strict);
  const { page } = s;
  const user = newUser("Careful");
  await page.goto("/sign-up");
  await fillSignUp(page, user);
  await visible(heading(page, "Check your inbox"));
  await visible(page.getByText(user.email));
  assert.equal(new URL(page.url()).pathname, "/check-email");
  await sink.waitFor(user.email, VERIFY);

  // Three a minute from one address: the fourth is refused, and the button counts down.
  const resend = page.getByRole("button", { name: /^Resend email/ });
  for (let i = 0; i < 3; i++) {
    await until(async () => await resend.isEnabled(), "Resend email to be enabled");
    await resend.click();
    await visible(page.getByText("We sent the link again. It can take a minute to arrive."));
  }
  await until(async () => await resend.isEnabled(), "Resend email to be enabled");
  await resend.click();
  await visible(page.getByRole("button", { name: /^Resend email \(\d+ s\)$/ }));
  assert.equal(await resend.isDisabled(), true);
  await visible(page.getByText(/Too many requests\. You can ask again in \d+ s\./));

  // Signing in before verifying explains, and mails a fresh link.
  const other = await openContext(t, strict);
  const mark = sink.messages.length;
  await submitSignIn(other.page, user);
  await visible(heading(other.page, "Check your inbox"));
  await visible(other.page.getByText(/Your email address is not verified yet\./));
  const link = await mailedLink(user.email, VERIFY, "/api/auth/verify-email", { after: mark });

  await other.page.goto(link);
  await visible(heading(other.page, "Your email address is verified"));
  await other.page.getByRole("link", { name: "Continue to Chatkeep" }).click();
  await visible(messageBox(other.page));
  assert.equal(await banner(other.page).count(), 0);
  await signIn(page, user);
  await visible(messageBox(page));
  assertNoErrors(s, other);
});

test("changing the email in Settings: the old inbox confirms, the new one verifies, then it changes", TEST, async (t) => {
  const s = await openContext(t, main);
  const { page } = s;
  const user = await signUp(page, newUser("Mover"));
  await verifyFromInbox(page, user);
  await page.goto("/settings");
  const email = page.getByRole("region", { name: "Email", exact: true });
  await visible(email.getByText(user.email));
  await visible(email.getByText("Verified", { exact: true }));

  const newEmail = newUser("Moved").email;
  await email.getByLabel("New email address").fill(newEmail);
  await email.getByRole("button", { name: "Change email" }).click();
  await visible(email.getByText(new RegExp(`We sent a link to ${user.email.replace(/[.+]/g, "\\$&")}`)));
  await visible(email.getByText(/Change waiting for its link/));

  await page.goto(await mailedLink(user.email, CONFIRM_CHANGE, "/api/auth/verify-email"));
  await visible(heading(page, "Check your new inbox"));
  await page.goto(await mailedLink(newEmail, NEW_ADDRESS, "/api/auth/verify-email"));
  await visible(heading(page, "Your email address is changed"));
  await page.getByRole("link", { name: "Continue to Chatkeep" }).click();
  await page.waitForURL((url) => url.pathname === "/settings", { timeout: WAIT });
  await visible(email.getByText(newEmail));
  await visible(email.getByText("Verified", { exact: true }));
  assert.equal(await email.getByText(/Change waiting for its link/).count(), 0, "the pending change is done");

  const other = await openContext(t, main);
  await signIn(other.page, { email: newEmail, password: user.password });
  await visible(messageBox(other.page));
  assertNoErrors(s, other);
});

test("the new pages pass axe-core's WCAG A and AA checks in light and dark", TEST, async (t) => {
  for (const colorScheme of ["light", "dark"]) {
    const s = await openContext(t, main, { colorScheme, bypassCSP: true });
    const { page } = s;
    const found = [];
    const check = async (name) => found.push(...(await axeViolations(page)).map((v) => `${name}: ${v}`));
    await page.goto("/forgot-password");
    await visible(heading(page, "Reset your password"));
    await check("forgot password");
    await page.goto("/reset-password?token=abc");
    await visible(heading(page, "Choose a new password"));
    await check("choose a new password");
    await page.goto("/check-email?email=someone%40example.com");
    await visible(heading(page, "Check your inbox"));
    await check("check your inbox");
    const user = await signUp(page, newUser());
    await visible(banner(page));
    await check("chat with the verification banner");
    await page.goto("/settings");
    await visible(page.getByRole("region", { name: "Email", exact: true }));
    await check("settings, email");
    await verifyFromInbox(page, user);
    await check("verified");
    assert.deepEqual(found, [], `${colorScheme}: accessibility problems`);
    assertNoErrors(s);
  }
});

test("screenshots of the account pages", { timeout: 600_000 }, async (t) => {
  await mkdir(screenshotDir, { recursive: true });
  const variants = [];
  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ]) {
    for (const colorScheme of ["light", "dark"]) variants.push({ width, height, colorScheme });
  }
  const sessions = [];
  for (const { width, height, colorScheme } of variants) {
    const s = await openContext(t, main, { viewport: { width, height }, colorScheme });
    sessions.push(s);
    const { page } = s;
    const shot = (name) =>
      page.screenshot({ path: path.join(screenshotDir, `${width}-${colorScheme}-${name}.png`), animations: "disabled" });

    const user = await signUp(page, newUser("Pictured"));
    await visible(banner(page));
    await shot("verify-banner");
    await page.goto("/settings");
    await visible(page.getByRole("region", { name: "Email", exact: true }));
    await page.getByRole("region", { name: "Email", exact: true }).scrollIntoViewIfNeeded();
    await shot("settings-email");
    await verifyFromInbox(page, user);
    await shot("verified");

    await s.context.clearCookies();
    await page.goto("/sign-in");
    await visible(page.getByRole("link", { name: "Forgot password?" }));
    await shot("sign-in-forgot");
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await visible(heading(page, "Reset your password"));
    await shot("forgot-password");
    await page.getByLabel("Email", { exact: true }).fill(user.email);
    await page.getByRole("button", { name: "Send reset link" }).click();
    await visible(heading(page, "Check your inbox"));
    await shot("reset-sent");
    await page.goto(await mailedLink(user.email, RESET, "/api/auth/reset-password/"));
    await visible(heading(page, "Choose a new password"));
    await shot("choose-new-password");
  }
  const s = await openContext(t, strict, { viewport: { width: 390, height: 844 } });
  sessions.push(s);
  for (const { width, height, colorScheme } of variants) {
    await s.page.setViewportSize({ width, height });
    await s.page.emulateMedia({ colorScheme });
    await s.page.goto(`/check-email?email=${encodeURIComponent("ada@example.com")}`);
    await visible(heading(s.page, "Check your inbox"));
    await s.page.screenshot({ path: path.join(screenshotDir, `${width}-${colorScheme}-check-email.png`), animations: "disabled" });
  }
  assertNoErrors(...sessions);
});
