// Starts a real Chatkeep server for an end-to-end test: the built binary, a fresh database,
// a free port. Returns its URL and a stop() that also drops the database.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(root, "target");
export const serverUrl = process.env.PG_SERVER_URL ?? "postgres://postgres@127.0.0.1:5432";

export async function createDatabase(name) {
  const admin = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(name) {
  const admin = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * Each server has a data folder of its own (its generated secret, and without SMTP_URL its mail
 * outbox, `dataDir/outbox`), removed when it stops.
 * @param {{env?: Record<string,string>, database?: string}} options
 */
export async function startChatkeep(options = {}) {
  const database = options.database ?? `chatkeep_e2e_${randomBytes(6).toString("hex")}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "chatkeep-e2e-"));
  const bin = process.env.CHATKEEP_BIN ?? path.join(targetDir, "debug", "chatkeep");
  const child = spawn(bin, [], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      CHATKEEP_BIND: "127.0.0.1:0",
      DATABASE_URL: `${serverUrl}/${database}`,
      CHATKEEP_SPA_DIR: process.env.CHATKEEP_SPA_DIR ?? path.join(root, "dist"),
      CHATKEEP_DATA_DIR: dataDir,
      RUST_LOG: process.env.RUST_LOG ?? "warn,chatkeep=info",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Chatkeep did not start:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk.toString();
      // eslint-disable-next-line no-control-regex
      const match = output.replace(/\x1b\[[0-9;]*m/g, "").match(/listening on (http:\/\/[0-9.:]+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      rm(dataDir, { recursive: true, force: true }).catch(() => {});
      reject(new Error(`Chatkeep exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    database,
    dataDir,
    output: () => output,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      await rm(dataDir, { recursive: true, force: true });
      if (!options.database) await dropDatabase(database);
    },
  };
}
