// A real Better Auth server (the npm package Chatkeep's /api/auth must be wire-compatible with),
// configured like Chatkeep: email + password, user deletion, the jwt, bearer and admin plugins,
// PostgreSQL.
// Interop tests run the official client against it, or share its database with Chatkeep.
import { randomBytes } from "node:crypto";
import http from "node:http";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { admin, anonymous, bearer, genericOAuth, jwt } from "better-auth/plugins";
import nodemailer from "nodemailer";
import pg from "pg";
import { createDatabase, dropDatabase, serverUrl } from "./chatkeep.mjs";

/**
 * @param {{
 *   secret?: string,
 *   secrets?: {version: number, value: string}[], // BETTER_AUTH_SECRETS rotation, current first
 *   anonymous?: boolean,      // the anonymous plugin (Chatkeep's ANONYMOUS_SIGN_IN); its onLinkAccount is not set
 *   admin?: boolean,          // the admin plugin, as Chatkeep always has it (default true)
 *   genericOAuth?: {providerId: string, discoveryUrl: string, clientId: string, clientSecret: string, scopes?: string[]}[],
 *                             // the generic OAuth plugin (Chatkeep's OIDC_PROVIDERS), used through signIn.social and
 *                             // /callback/{providerId}; discovery runs when the server starts, so the provider must be up
 *   migrate?: boolean,        // default true: run Better Auth's migrations first; false: use the tables as they are
 *   password?: {hash(p: string): Promise<string>, verify(a: {hash: string, password: string}): Promise<boolean>},
 *   database?: string,        // existing database to use (and keep); default: a fresh one, dropped on close()
 *   port?: number,            // default 0 (any free port)
 *   baseURL?: string,         // default http://127.0.0.1:<port>; must be the origin clients send
 *   rateLimit?: boolean,      // default false, as Better Auth does outside NODE_ENV=production
 *   trustedOrigins?: string[],
 *   mail?: {                  // the account flows that send mail, as Chatkeep's settings do them
 *     smtpUrl: string,        // where the mail goes (the tests' SMTP sink)
 *     requireEmailVerification?: boolean, // EMAIL_VERIFICATION=required (default: optional)
 *   },
 * }} options
 * @returns {Promise<{
 *   url: string, auth: ReturnType<typeof betterAuth>, database: string, secret: string,
 *   pending: {toBeCreated: object[], toBeAdded: object[]}, // what Better Auth's migration found missing
 *   close(): Promise<void>,
 * }>}
 */
export async function startBetterAuth(options = {}) {
  const database = options.database ?? `ba_interop_${randomBytes(6).toString("hex")}`;
  if (!options.database) await createDatabase(database);
  const secret = options.secret ?? randomBytes(32).toString("hex");
  const pool = new pg.Pool({ connectionString: `${serverUrl}/${database}` });

  // Listen before configuring: with port 0 the base URL (which Better Auth needs for its
  // Origin checks and as JWT iss/aud) is only known once the socket is bound.
  let handler;
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const url = options.baseURL ?? `http://127.0.0.1:${server.address().port}`;

  const config = {
    baseURL: url,
    basePath: "/api/auth",
    secret,
    database: pool,
    ...(options.secrets ? { secrets: options.secrets } : {}),
    emailAndPassword: { enabled: true, ...(options.password ? { password: options.password } : {}) },
    user: { deleteUser: { enabled: true } },
    plugins: [
      jwt(),
      bearer(),
      ...(options.anonymous ? [anonymous()] : []),
      ...((options.admin ?? true) ? [admin()] : []),
      ...(options.genericOAuth ? [genericOAuth({ config: options.genericOAuth })] : []),
    ],
    rateLimit: { enabled: options.rateLimit ?? false },
    ...(options.mail ? mailOptions(options.mail) : {}),
    trustedOrigins: options.trustedOrigins ?? [],
    // Expected failures ("Invalid password", "User not found") would clutter the test report.
    logger: { level: "error" },
    // The test machine has no route to Better Auth's telemetry endpoint.
    telemetry: { enabled: false },
  };

  let auth;
  let pending;
  try {
    const migrations = await getMigrations(config);
    pending = { toBeCreated: migrations.toBeCreated, toBeAdded: migrations.toBeAdded };
    if (options.migrate ?? true) await migrations.runMigrations();
    auth = betterAuth(config);
  } catch (error) {
    await closeAll(server, pool, options.database ? null : database);
    throw error;
  }
  handler = toNodeHandler(auth);

  return {
    url,
    auth,
    database,
    secret,
    pending,
    close: () => closeAll(server, pool, options.database ? null : database),
  };
}

/**
 * Better Auth configured as Chatkeep's defaults are (EMAIL_VERIFICATION=optional or required,
 * PASSWORD_RESET_REVOKES_SESSIONS=on, CHANGE_EMAIL_CONFIRM_OLD=on, auto sign-in after
 * verification, a fresh link on an unverified sign-in), sending real mail over SMTP with
 * Chatkeep's subjects, so one test reads the mail of either server.
 */
function mailOptions({ smtpUrl, requireEmailVerification = false }) {
  const transport = nodemailer.createTransport(smtpUrl);
  const send = (to, subject, url) =>
    transport.sendMail({ from: "Better Auth <no-reply@localhost>", to, subject, text: `Follow this link:\n\n${url}\n` });
  return {
    emailAndPassword: {
      enabled: true,
      requireEmailVerification,
      revokeSessionsOnPasswordReset: true,
      sendResetPassword: ({ user, url }) => send(user.email, "Reset your Chatkeep password", url),
    },
    emailVerification: {
      sendOnSignUp: true,
      sendOnSignIn: true,
      autoSignInAfterVerification: true,
      sendVerificationEmail: ({ user, url }) => send(user.email, "Verify your email address for Chatkeep", url),
    },
    user: {
      deleteUser: { enabled: true },
      changeEmail: {
        enabled: true,
        sendChangeEmailConfirmation: ({ user, url }) =>
          send(user.email, "Confirm the change of your Chatkeep email address", url),
      },
    },
  };
}

async function closeAll(server, pool, databaseToDrop) {
  // Keep-alive connections from fetch would otherwise hold server.close() open.
  server.closeAllConnections();
  await new Promise((resolve) => server.close(() => resolve()));
  await pool.end();
  if (databaseToDrop) await dropDatabase(databaseToDrop);
}
