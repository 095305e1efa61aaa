// What a test file of the chat app (app-*.test.mjs, everyday-*.test.mjs) starts in its `before`
// and stops in its `after`: its browser (lib/app.mjs) and the Chatkeep servers it names, each
// with a fresh database:
//
// - `main`: the built-in retrieval agent (fast answers with sources);
// - `slow`: its agent is `upstream`, a fake OpenAI-compatible upstream writing 400 words at 40 ms
//   each (about 16 s an answer, so one can be watched while it is written and stopped midway;
//   a question with "quick" in it is answered at once);
// - `limited`: like `slow`, with one generation slot and two questions a minute per user.
//
// `upstream` is started (one, shared) when `slow` or `limited` is named. Every server trusts
// 127.0.0.1 as a proxy, so each browser context is a client of its own (lib/app.mjs).
//
// Each test file runs in its own Node process (node --test), and keeps what it started in
// variables of its own:
//
//   let main, slow, upstream;
//   before(async () => ({ main, slow, upstream } = await startServers("main", "slow")));
//   after(() => stopServers({ main, slow, upstream }));
import { closeBrowser, openBrowser } from "./app.mjs";
import { startChatkeep } from "./chatkeep.mjs";
import { startFakeUpstream } from "./fake-upstream.mjs";

const SERVERS = ["main", "slow", "limited"];

/** Each server's environment, beside CHATKEEP_TRUSTED_PROXIES. */
function serverEnv(name, upstream) {
  switch (name) {
    case "main":
      return {};
    case "slow":
      return { AGENT_URL: upstream.url };
    case "limited":
      return { AGENT_URL: upstream.url, AGENT_MAX_CONCURRENCY: "1", MESSAGE_RATE_LIMIT: "2" };
  }
}

/**
 * Opens this test file's browser and starts the servers named (of "main", "slow", "limited"),
 * with the fake upstream when one of them needs it. Returns `{main, slow, limited, upstream}`,
 * each present when started. If any of it fails to start, what did start is stopped again.
 */
export async function startServers(...names) {
  const unknown = names.filter((name) => !SERVERS.includes(name));
  if (unknown.length > 0) throw new Error(`no such server: ${unknown.join(", ")} (known: ${SERVERS.join(", ")})`);
  const started = {};
  const env = { CHATKEEP_TRUSTED_PROXIES: "127.0.0.1" };
  try {
    if (names.some((name) => name !== "main")) {
      started.upstream = await startFakeUpstream({ words: 400, delayMs: 40 });
    }
    const results = await Promise.allSettled([
      openBrowser(),
      ...names.map(async (name) => {
        started[name] = await startChatkeep({ env: { ...env, ...serverEnv(name, started.upstream) } });
      }),
    ]);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  } catch (e) {
    await stopServers(started);
    throw e;
  }
  return started;
}

/** Closes the browser, stops the servers given (any may be missing), then the upstream. */
export async function stopServers({ upstream, ...servers } = {}) {
  await closeBrowser();
  await Promise.all(SERVERS.map((name) => servers[name]?.stop()));
  await upstream?.close();
}
