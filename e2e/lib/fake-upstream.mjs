// A tiny OpenAI-compatible upstream for AGENT_URL: `POST …/chat/completions` with `stream: true`
// answers word by word, slowly, so a test can watch an answer being written and stop it midway.
// A question whose last user message contains "quick" is answered at once instead (regenerate
// tests), with a running number so two answers to the same question differ.
import http from "node:http";

/** The full slow answer for `words` words: what a client would get if it never stopped. */
export function slowAnswerText(words = 400) {
  return slowAnswerChunks(words).join("");
}

function slowAnswerChunks(words) {
  const chunks = ["Slow answer begins."];
  for (let i = 1; i <= words; i++) chunks.push(` word-${i}`);
  chunks.push(". Slow answer ends.");
  return chunks;
}

/** The quick answer number `n` (1-based, counted per upstream). */
export function quickAnswerText(n) {
  return `Quick answer number ${n}, written at once.`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {{words?: number, delayMs?: number, host?: string, port?: number}} options  `host` and
 *   `port` (default: loopback, any free port) let containers reach it at their network's gateway.
 * @returns {Promise<{url: string, close: () => Promise<void>, requests: object[], fullText: string}>}
 *   `requests`: one entry per completion request, in arrival order:
 *   `{path, body, lastUserMessage, kind: "slow"|"quick", chunksSent, finished, disconnected}`.
 */
export async function startFakeUpstream({ words = 400, delayMs = 40, host = "127.0.0.1", port = 0 } = {}) {
  const requests = [];
  let quickCount = 0;

  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url, "http://upstream").pathname;
    if (req.method !== "POST" || !path.replace(/\/+$/, "").endsWith("chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no route for ${req.method} ${path}` } }));
      return;
    }
    let raw = "";
    for await (const chunk of req) raw += chunk;
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "body is not JSON" } }));
      return;
    }
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const lastUser = [...messages].reverse().find((m) => m?.role === "user");
    const lastUserMessage = typeof lastUser?.content === "string" ? lastUser.content : "";
    const quick = /quick/i.test(lastUserMessage);
    const record = {
      path,
      body,
      lastUserMessage,
      kind: quick ? "quick" : "slow",
      chunksSent: 0,
      finished: false,
      disconnected: false,
    };
    requests.push(record);
    const chunks = quick ? [quickAnswerText(++quickCount)] : slowAnswerChunks(words);
    const model = typeof body.model === "string" ? body.model : "fake-model";
    const id = `chatcmpl-fake-${requests.length}`;
    const created = Math.floor(Date.now() / 1000);

    if (body.stream !== true) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id,
          object: "chat.completion",
          created,
          model,
          choices: [
            { index: 0, message: { role: "assistant", content: chunks.join("") }, finish_reason: "stop" },
          ],
        }),
      );
      record.finished = true;
      return;
    }

    let gone = false;
    res.on("error", () => {});
    res.on("close", () => {
      if (!res.writableFinished) {
        gone = true;
        record.disconnected = true;
      }
    });
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const send = (payload) => {
      if (gone || res.destroyed) return false;
      res.write(`data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`);
      return true;
    };
    const chunk = (delta, finishReason = null) => ({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });

    send(chunk({ role: "assistant", content: "" }));
    for (const [i, text] of chunks.entries()) {
      if (!quick && i > 0) await sleep(delayMs);
      if (!send(chunk({ content: text }))) return;
      record.chunksSent++;
    }
    if (!send(chunk({}, "stop"))) return;
    send({ id, object: "chat.completion.chunk", created, model, choices: [], usage: usage(chunks) });
    if (!send("[DONE]")) return;
    record.finished = true;
    res.end();
  });

  await new Promise((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
  const bound = server.address();
  return {
    url: `http://${host}:${bound.port}`,
    requests,
    fullText: slowAnswerText(words),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function usage(chunks) {
  const completion = chunks.length;
  return { prompt_tokens: 10, completion_tokens: completion, total_tokens: 10 + completion };
}
