// The SPA as `scripts/run.sh` builds it (`scripts/build-spa.sh --quick`: profile wasm-quick, no
// parts cut out, no wasm-opt): the first thing a newcomer sees, so it is tested, not assumed.
// The parts that the release build fetches on demand are in the one file here; this drives the
// ones a visit meets (sign-in and sign-up, search, shortcuts, settings). scripts/test.sh builds
// it into the target folder's spa-quick (QUICK_SPA_DIR overrides).
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import {
  ask,
  assertNoErrors,
  closeBrowser,
  focusNothing,
  gone,
  lastArticle,
  newUser,
  openBrowser,
  openContext,
  signIn,
  signUp,
  TEST,
  visible,
  waitForAnswerDone,
} from "./lib/app.mjs";
import { startChatkeep } from "./lib/chatkeep.mjs";

// Where scripts/test.sh puts it (the cargo target folder's spa-quick), unless QUICK_SPA_DIR says.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dir =
  process.env.QUICK_SPA_DIR ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, "target"), "spa-quick");
let server;

before(async () => {
  const stamp = await readFile(path.join(dir, ".build-stamp"), "utf8").catch(() => {
    throw new Error(`no quick build in ${dir}: CHATKEEP_SPA_DIR=${dir} scripts/build-spa.sh --quick makes it (scripts/test.sh does)`);
  });
  assert.match(stamp, /^quick /, `${dir} holds a quick build`);
  const [app] = (await readdir(path.join(dir, "assets"))).filter((f) => f.startsWith("app-"));
  const files = await readdir(path.join(dir, "assets", app));
  assert.deepEqual(
    files.filter((f) => f.endsWith(".wasm")),
    ["app_bg.wasm"],
    "one WASM file: nothing is split off",
  );
  server = await startChatkeep({ env: { CHATKEEP_SPA_DIR: dir } });
  await openBrowser();
});

after(async () => {
  await closeBrowser();
  await server?.stop();
});

test("the quick build: sign up, ask, settings, search, shortcuts, sign out and in", TEST, async (t) => {
  const s = await openContext(t, server);
  const { page } = s;
  const user = await signUp(page, newUser("Quick"));
  await ask(page, "How do I install Chatkeep?");
  await waitForAnswerDone(page);
  await visible(lastArticle(page).getByRole("list", { name: "Sources" }));

  await page.getByRole("button", { name: "Search chats" }).click();
  const search = page.getByRole("dialog", { name: "Search" });
  await search.getByRole("searchbox", { name: "Search your chats" }).fill("install");
  await visible(search.getByRole("list", { name: "Results" }).getByRole("link").filter({ hasText: /install/i }));
  await page.keyboard.press("Escape");
  await gone(search);

  await focusNothing(page);
  await page.keyboard.press("Shift+Slash");
  const shortcuts = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await visible(shortcuts);
  await page.keyboard.press("Escape");
  await gone(shortcuts);

  await page.getByRole("link", { name: "Settings" }).click();
  await visible(page.getByRole("heading", { name: "Sessions" }));
  await page.goto("/");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await visible(page.getByRole("heading", { name: "Sign in", exact: true }));
  await signIn(page, user);
  assertNoErrors(s);
});
