// Which server the auth interop suites talk to. The same tests run against the real Better Auth
// package (to prove the tests themselves are right) and against Chatkeep (to prove it matches).
import { randomBytes } from "node:crypto";
import net from "node:net";
import { startBetterAuth } from "./better-auth-peer.mjs";
import { startChatkeep } from "./chatkeep.mjs";

/** AUTH_TARGET=chatkeep|better-auth, default chatkeep. */
export function authTarget() {
  const target = process.env.AUTH_TARGET ?? "chatkeep";
  if (target !== "chatkeep" && target !== "better-auth") {
    throw new Error(`AUTH_TARGET must be "chatkeep" or "better-auth", not ${JSON.stringify(target)}`);
  }
  return target;
}

export function newSecret() {
  return randomBytes(32).toString("hex");
}

/** A port that was free a moment ago (the kernel may hand it out again, but not in practice). */
export async function freePort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Chatkeep on a port chosen up front, so its base URL (Origin checks, JWT iss/aud) is known
 * before it starts and equals the URL the tests use.
 * @param {{secret: string, database?: string, env?: Record<string,string>}} options
 */
export async function startChatkeepAuth({ secret, database, env = {} }) {
  const port = await freePort();
  const server = await startChatkeep({
    database,
    env: {
      CHATKEEP_BIND: `127.0.0.1:${port}`,
      BETTER_AUTH_URL: `http://127.0.0.1:${port}`,
      BETTER_AUTH_SECRET: secret,
      // These suites sign in dozens of times a second from one address; the limiter has its
      // own tests.
      AUTH_RATE_LIMIT: "off",
      ...env,
    },
  });
  return { url: server.url, server, database: server.database, close: () => server.stop() };
}

/**
 * Starts the server chosen by AUTH_TARGET on a fresh database; returns {target, url, database,
 * close()} (the database's name, for arranging what no endpoint does, such as the first
 * administrator's role).
 */
export async function startServer() {
  const target = authTarget();
  if (target === "better-auth") {
    const peer = await startBetterAuth({ secret: newSecret() });
    return { target, url: peer.url, database: peer.database, close: () => peer.close() };
  }
  const chatkeep = await startChatkeepAuth({ secret: newSecret() });
  return { target, url: chatkeep.url, database: chatkeep.database, close: chatkeep.close };
}
