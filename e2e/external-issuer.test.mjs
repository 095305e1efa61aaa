// Chatkeep as a resource server for an EXTERNAL Better Auth: it accepts the JWTs that Better Auth
// issues (checked against that server's /jwks, issuer and audience) and nothing else. Every
// forgery below must be refused with 401 {"code":"UNAUTHORIZED"}; each one is a known way JWT
// verifiers have been fooled.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { base64url, decodeProtectedHeader, generateKeyPair, SignJWT } from "jose";
import { newSecret, startChatkeepAuth } from "./lib/auth-target.mjs";
import { startBetterAuth } from "./lib/better-auth-peer.mjs";
import { makeClient } from "./lib/client.mjs";

describe("Chatkeep trusting an external Better Auth's JWTs", () => {
  let peer;
  let chatkeep;
  let issuer;
  let user;
  let validJwt;
  let publicJwk;

  before(async () => {
    peer = await startBetterAuth();
    issuer = new URL(peer.url).origin;
    chatkeep = await startChatkeepAuth({
      secret: newSecret(),
      env: {
        AUTH_JWKS_URL: `${peer.url}/api/auth/jwks`,
        AUTH_JWT_ISSUER: issuer,
        AUTH_JWT_AUDIENCE: issuer,
      },
    });
    const alice = makeClient(peer.url);
    const signUp = await alice.client.signUp.email({
      email: `external-${Date.now()}@example.com`,
      password: "correct horse battery staple",
      name: "External Alice",
    });
    assert.equal(signUp.error, null);
    user = signUp.data.user;
    const token = await alice.client.token();
    assert.equal(token.error, null);
    validJwt = token.data.token;
    const jwks = await (await fetch(`${peer.url}/api/auth/jwks`)).json();
    publicJwk = jwks.keys.find((key) => key.kid === decodeProtectedHeader(validJwt).kid);
  });

  after(async () => {
    await chatkeep?.close();
    await peer?.close();
  });

  function me(authorization) {
    const headers = authorization ? { authorization } : {};
    return fetch(`${chatkeep.url}/api/me`, { headers });
  }

  async function assertRefused(jwt) {
    const response = await me(`Bearer ${jwt}`);
    assert.equal(response.status, 401, `accepted: ${jwt}`);
    const body = await response.json();
    assert.equal(body.code, "UNAUTHORIZED");
  }

  /** The peer signs with its own private key (server-only endpoint of the jwt plugin). */
  async function peerSigned(claims) {
    const { token } = await peer.auth.api.signJWT({ body: { payload: claims } });
    return token;
  }

  const now = () => Math.floor(Date.now() / 1000);

  /** Claims as Better Auth puts them in a session JWT, before signJWT adds iss/aud/exp. */
  const userClaims = () => ({ ...user, sub: user.id, iat: now() });

  /** A JWS with arbitrary header and payload, signed by `sign(signingInput)`. */
  function compact(header, payload, sign) {
    const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
    return `${input}.${sign(input)}`;
  }

  function validPayload() {
    const [, payload] = validJwt.split(".");
    return JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
  }

  test("a JWT issued by Better Auth authenticates GET /api/me", async () => {
    const response = await me(`Bearer ${validJwt}`);
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.id, user.id);
  });

  test("control: a token the peer signs with correct claims is accepted too", async () => {
    // Proves the forgeries below fail for the reason they name, not because signJWT output differs.
    const response = await me(`Bearer ${await peerSigned(userClaims())}`);
    assert.equal(response.status, 200);
    assert.equal((await response.json()).id, user.id);
  });

  test("no Authorization header is a 401", async () => {
    const response = await me();
    assert.equal(response.status, 401);
    assert.equal((await response.json()).code, "UNAUTHORIZED");
  });

  test("a payload with another subject but the original signature is refused", async () => {
    const [header, , signature] = validJwt.split(".");
    const someoneElse = "someoneElse000000000000000000000";
    const payload = { ...validPayload(), sub: someoneElse, id: someoneElse };
    await assertRefused(`${header}.${base64url.encode(JSON.stringify(payload))}.${signature}`);
  });

  test("a payload with one character flipped is refused", async () => {
    const [header, payload, signature] = validJwt.split(".");
    const i = Math.floor(payload.length / 2);
    const flipped = payload.slice(0, i) + (payload[i] === "A" ? "B" : "A") + payload.slice(i + 1);
    await assertRefused(`${header}.${flipped}.${signature}`);
  });

  test("an expired token signed by the right key is refused", async () => {
    // Well past any clock-skew leeway.
    await assertRefused(await peerSigned({ ...userClaims(), iat: now() - 7200, exp: now() - 3600 }));
  });

  test("a token for another issuer is refused", async () => {
    await assertRefused(await peerSigned({ ...userClaims(), iss: "http://evil.example" }));
  });

  test("a token for another audience is refused", async () => {
    await assertRefused(await peerSigned({ ...userClaims(), aud: "http://evil.example" }));
  });

  test("a token without a subject is refused", async () => {
    const { sub: _sub, ...claims } = userClaims();
    await assertRefused(await peerSigned(claims));
  });

  test('an unsigned token (alg "none") is refused', async () => {
    const { kid } = decodeProtectedHeader(validJwt);
    await assertRefused(compact({ alg: "none", kid }, validPayload(), () => ""));
    await assertRefused(compact({ alg: "none" }, validPayload(), () => ""));
  });

  test("HS256 keyed with the public key (algorithm confusion) is refused", async () => {
    const { kid } = decodeProtectedHeader(validJwt);
    // Whatever bytes a confused verifier might use as the HMAC secret.
    const candidateKeys = [
      base64url.decode(publicJwk.x),
      Buffer.from(JSON.stringify(publicJwk)),
      Buffer.from(publicJwk.x),
    ];
    for (const key of candidateKeys) {
      const hs256 = (input) => base64url.encode(createHmac("sha256", key).update(input).digest());
      await assertRefused(compact({ alg: "HS256", kid }, validPayload(), hs256));
    }
  });

  test("a token signed by an unknown key is refused, whichever kid it names", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const { kid } = decodeProtectedHeader(validJwt);
    for (const claimedKid of ["nope", kid]) {
      const forged = await new SignJWT(validPayload())
        .setProtectedHeader({ alg: "EdDSA", kid: claimedKid })
        .sign(privateKey);
      await assertRefused(forged);
    }
  });
});
