// A real Better Auth server for load comparisons (bench/bench-auth.sh): the same configuration
// as the interop peer, on a given port, until SIGTERM. Prints its URL when ready.
import { startBetterAuth } from "../lib/better-auth-peer.mjs";

const port = Number(process.env.PORT ?? 0);
const peer = await startBetterAuth({ port });
console.log(`listening on ${peer.url}`);
const stop = async () => {
  await peer.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
