// Guests in the app, in real Chromium (ANONYMOUS_SIGN_IN=on): "Try it without an account" on the
// sign-in page, the guest banner, the guests' limit said in a sentence, and signing up keeping
// the conversations; axe-core and screenshots (wide and 390 px, light and dark).
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  ask,
  assertNoErrors,
  axeViolations,
  closeBrowser,
  fillSignUp,
  forgiveErrors,
  history,
  lastArticle,
  messageBox,
  newChatButton,
  newUser,
  openBrowser,
  openContext,
  TEST,
  visible,
  waitForAnswerDone,
  WAIT,
} from "./lib/app.mjs";
import { startChatkeep } from "./lib/chatkeep.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const screenshotDir = process.env.SCREENSHOT_DIR ?? path.join(root, "target", "screenshots");

let server;
before(async () => {
  [server] = await Promise.all([
    startChatkeep({
      env: { CHATKEEP_TRUSTED_PROXIES: "127.0.0.1", ANONYMOUS_SIGN_IN: "on", GUEST_MESSAGES_PER_DAY: "2" },
    }),
    openBrowser(),
  ]);
});
after(async () => {
  await closeBrowser();
  await server?.stop();
});

const guestBanner = (page) => page.getByRole("region", { name: "Guest" });
const tryIt = (page) => page.getByRole("button", { name: "Try it without an account" });

async function startAsGuest(page) {
  await page.goto("/sign-in");
  await tryIt(page).click();
  await visible(messageBox(page));
  await visible(guestBanner(page));
}

test("a guest chats, is told the limit, and keeps the conversation on signing up", TEST, async (t) => {
  const s = await openContext(t, server);
  const { page } = s;
  await startAsGuest(page);
  await visible(guestBanner(page).getByText("You are chatting as a guest: sign up to keep your conversations"));
  await ask(page, "What is Chatkeep?");
  await waitForAnswerDone(page);
  await ask(page, "How do I export my data?");
  await waitForAnswerDone(page);
  const title = (await history(page).getByRole("link").first().textContent()).trim();

  // The third question of the day: refused, in a sentence, with the question kept.
  await messageBox(page).fill("A third question");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await visible(page.getByText(/Guests can ask 2 questions a day\. Sign up to keep asking/));
  forgiveErrors(s, /status of 403/);

  await guestBanner(page).getByRole("link", { name: "Sign up" }).click();
  await visible(page.getByRole("heading", { name: "Create your account", exact: true }));
  const user = newUser("Joined");
  await fillSignUp(page, user);
  await visible(newChatButton(page));
  await assert.rejects(guestBanner(page).waitFor({ timeout: 2_000 }), "no guest banner once signed up");
  await visible(history(page).getByRole("link", { name: title }));
  await history(page).getByRole("link", { name: title }).click();
  await visible(lastArticle(page));
  assertNoErrors(s);
});

test("without guests on, the sign-in page offers no guest entry", TEST, async (t) => {
  const off = await startChatkeep({ env: { CHATKEEP_TRUSTED_PROXIES: "127.0.0.1" } });
  t.after(() => off.stop());
  const s = await openContext(t, off);
  await s.page.goto("/sign-in");
  await visible(s.page.getByRole("heading", { name: "Sign in", exact: true }));
  assert.equal(await tryIt(s.page).count(), 0);
  assertNoErrors(s);
});

test("the guest pages pass axe-core's WCAG A and AA checks, and are pictured", { timeout: 600_000 }, async (t) => {
  await mkdir(screenshotDir, { recursive: true });
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    for (const colorScheme of ["light", "dark"]) {
      const s = await openContext(t, server, { viewport: { width, height }, colorScheme, bypassCSP: true });
      const { page } = s;
      const shot = (name) =>
        page.screenshot({ path: path.join(screenshotDir, `${width}-${colorScheme}-${name}.png`), animations: "disabled" });
      await page.goto("/sign-in");
      await visible(tryIt(page));
      assert.deepEqual(await axeViolations(page), [], `${width} ${colorScheme}: sign-in with the guest entry`);
      await shot("sign-in-guest-entry");
      await tryIt(page).click();
      await visible(guestBanner(page));
      assert.deepEqual(await axeViolations(page), [], `${width} ${colorScheme}: chat as a guest`);
      await shot("guest-chat");
      assertNoErrors(s);
    }
  }
});
