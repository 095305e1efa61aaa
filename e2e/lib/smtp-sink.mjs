// A real SMTP server for the tests (npm `smtp-server`), that keeps what it receives: each
// message parsed (npm `mailparser`) into {to, from, subject, text, html}. In-process for the
// end-to-end suites (`startSmtpSink()`), or as a process of its own for the Rust tests:
//   node e2e/lib/smtp-sink.mjs DIR   prints "listening PORT", writes DIR/<n>.json per message.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";

/** Starts a sink on a free port; `messages` grows as mail arrives. */
export async function startSmtpSink({ onMessage } = {}) {
  const messages = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const message = {
            to: (parsed.to?.value ?? []).map((a) => a.address.toLowerCase()),
            envelopeTo: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            from: parsed.from?.text ?? "",
            subject: parsed.subject ?? "",
            text: parsed.text ?? "",
            html: typeof parsed.html === "string" ? parsed.html : "",
          };
          messages.push(message);
          onMessage?.(message);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = server.server.address().port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    /** The first message to `to` whose subject matches `subject`, waiting for it (15 s). */
    async waitFor(to, subject, { after = 0, timeout = 15000 } = {}) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const found = messages
          .slice(after)
          .find((m) => m.envelopeTo.includes(to.toLowerCase()) && subject.test(m.subject));
        if (found) return found;
        if (Date.now() > deadline) {
          throw new Error(`no mail to ${to} matching ${subject} (got ${JSON.stringify(messages.map((m) => [m.envelopeTo, m.subject]))})`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The first link in a message's text that contains `part`. */
export function linkIn(message, part) {
  const links = message.text.match(/https?:\/\/\S+/g) ?? [];
  const link = links.find((l) => l.includes(part));
  if (!link) throw new Error(`no link with ${part} in: ${message.text}`);
  return link;
}

// As a process of its own: for tests in other languages.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: node smtp-sink.mjs DIR");
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  let n = 0;
  const sink = await startSmtpSink({
    onMessage(message) {
      n += 1;
      const name = join(dir, `${String(n).padStart(6, "0")}.json`);
      // Written whole under another name, then renamed: a reader never sees half a message.
      writeFileSync(`${name}.part`, JSON.stringify(message));
      renameSync(`${name}.part`, name);
    },
  });
  console.log(`listening ${sink.port}`);
  process.on("SIGTERM", () => sink.stop().then(() => process.exit(0)));
}
