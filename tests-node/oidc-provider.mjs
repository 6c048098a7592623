// Test OpenID Connect provider for PUSH login tests.
//
// A real, certified OP (the `oidc-provider` npm package) with:
//   - one confidential client (authorization code + PKCE S256 required,
//     client_secret_basic registered; client_secret_post is accepted too),
//   - ID tokens signed RS256 with a key generated at startup,
//   - fully automatic interactions (no login or consent page),
//   - a test-only control endpoint, POST /__test/account, that sets the account
//     (sub + arbitrary claims) used for the next login(s).
//
// Environment:
//   OIDC_PORT                      port on 127.0.0.1; 0 or unset = pick a free one
//   OIDC_CLIENT_ID                 required
//   OIDC_CLIENT_SECRET             required
//   OIDC_REDIRECT_URI              required, one URI or a comma-separated list
//   OIDC_POST_LOGOUT_REDIRECT_URI  optional, one URI or a comma-separated list
//   OIDC_EXTRA_CLAIMS              optional, comma-separated claim names to declare
//                                  at startup (any name set through /__test/account
//                                  is declared on the fly anyway)
//   OIDC_DEBUG                     optional, "1" logs every request to stderr
//   OIDC_EXIT_ON_STDIN_CLOSE       optional, "1" exits when stdin reaches EOF (lets a
//                                  parent that dies without killing us not leave an orphan)
//
// Stdout carries exactly one line, once the server listens:
//   OIDC_ISSUER=http://127.0.0.1:<port>
// Everything else (oidc-provider notices included) goes to stderr.

import { randomBytes, randomUUID, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

// oidc-provider prints notices with console.info (stdout). Stdout is reserved
// for the single OIDC_ISSUER line, so route console output to stderr before
// the library is loaded.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);

const { default: Provider, interactionPolicy } = await import('oidc-provider');
// Internal configuration accessor, used only to declare claim names at run time
// (see registerClaimNames). oidc-provider has no "exports" map, and the version
// is pinned exactly in package.json.
const { default: providerInternals } = await import('oidc-provider/lib/helpers/weak_cache.js');

const env = process.env;

function fail(message) {
  process.stderr.write(`oidc-provider.mjs: ${message}\n`);
  process.exit(2);
}

function listFromEnv(name, { required = false } = {}) {
  const raw = env[name];
  const values = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (required && values.length === 0) fail(`${name} is required`);
  return values;
}

const port = env.OIDC_PORT === undefined || env.OIDC_PORT === '' ? 0 : Number(env.OIDC_PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid OIDC_PORT: ${env.OIDC_PORT}`);
const clientId = env.OIDC_CLIENT_ID || fail('OIDC_CLIENT_ID is required');
const clientSecret = env.OIDC_CLIENT_SECRET || fail('OIDC_CLIENT_SECRET is required');
const redirectUris = listFromEnv('OIDC_REDIRECT_URI', { required: true });
const postLogoutRedirectUris = listFromEnv('OIDC_POST_LOGOUT_REDIRECT_URI');
const debug = env.OIDC_DEBUG === '1';

// ---------------------------------------------------------------------------
// Accounts

// Claims the ID token machinery sets itself; a test account may not carry them.
const RESERVED_CLAIMS = new Set([
  'sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'azp', 'at_hash', 'c_hash',
  's_hash', 'sid', 'auth_time', 'acr', 'amr', 'scope', 'client_id', 'cnf',
  '_claim_names', '_claim_sources',
]);

const STANDARD_CLAIMS = [
  'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username',
  'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
  'email', 'email_verified', 'phone_number', 'phone_number_verified', 'address',
];

// Names used by PUSH tests (SPID/CIE style fiscal number in its usual spellings).
const PUSH_CLAIMS = [
  'fiscal_number', 'fiscalNumber', 'https://attributes.eid.gov.it/fiscal_number',
];

const DEFAULT_ACCOUNT = { sub: 'test-user', claims: {} };

// Every account ever configured, by sub, so that tokens issued to an earlier
// account can still be exchanged / used at userinfo after the switch.
const accounts = new Map([[DEFAULT_ACCOUNT.sub, DEFAULT_ACCOUNT]]);
let currentAccount = DEFAULT_ACCOUNT;

function toAccount(record) {
  if (!record) return undefined;
  return {
    accountId: record.sub,
    // All of the account's claims are released under the `profile` scope (see
    // `claims` below); oidc-provider filters by scope/claims itself.
    async claims() {
      return { ...record.claims, sub: record.sub };
    },
  };
}

// ---------------------------------------------------------------------------
// Keys and cookies

function generateSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

// ---------------------------------------------------------------------------
// Interaction policy: on top of the default login and consent prompts, ask for
// login again when the browser session belongs to an account other than the one
// currently configured through /__test/account (so a client reusing its cookie
// jar across tests still gets the new account).

const { Check, base } = interactionPolicy;
const policy = base();
policy.get('login').checks.add(new Check(
  'test_account_changed',
  'the configured test account changed',
  (ctx) => {
    const { accountId } = ctx.oidc.session;
    if (accountId && accountId !== currentAccount.sub) return Check.REQUEST_PROMPT;
    return Check.NO_NEED_TO_PROMPT;
  },
));

// ---------------------------------------------------------------------------
// HTTP server: listen first (the issuer needs the real port), then build the provider.

let provider;
let providerCallback;

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write(`oidc-provider.mjs: unhandled error on ${req.method} ${req.url}: ${err?.stack || err}\n`);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(err?.message || err) });
    else res.destroy();
  });
});

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const claimNames = [...new Set([
  ...STANDARD_CLAIMS,
  ...PUSH_CLAIMS,
  ...listFromEnv('OIDC_EXTRA_CLAIMS'),
])].filter((c) => !RESERVED_CLAIMS.has(c));

provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    ...(postLogoutRedirectUris.length ? { post_logout_redirect_uris: postLogoutRedirectUris } : {}),
    application_type: 'web',
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  responseTypes: ['code'],
  pkce: { required: () => true },
  scopes: ['openid', 'profile'],
  claims: {
    openid: ['sub'],
    profile: claimNames,
  },
  // Put the scope-requested claims in the ID token too, not only at userinfo.
  conformIdTokenClaims: false,
  findAccount: async (_ctx, id) => toAccount(accounts.get(id)),
  jwks: { keys: [generateSigningKey()] },
  // Explicit lifetimes (seconds), also silencing oidc-provider's "default ttl" notices.
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 300,
    IdToken: 3600,
    Interaction: 3600,
    Session: 86400,
    Grant: 86400,
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  interactions: {
    policy,
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  async renderError(ctx, out, error) {
    process.stderr.write(`oidc-provider.mjs: error page: ${JSON.stringify(out)}${error?.stack ? `\n${error.stack}` : ''}\n`);
    ctx.type = 'application/json';
    ctx.body = out;
  },
});

for (const event of [
  'server_error', 'authorization.error', 'grant.error', 'userinfo.error',
  'introspection.error', 'revocation.error', 'end_session.error', 'discovery.error',
  'jwks.error', 'registration_read.error',
]) {
  provider.on(event, (...args) => {
    const err = args.find((a) => a instanceof Error);
    process.stderr.write(`oidc-provider.mjs: ${event}: ${err ? `${err.name}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}` : ''}\n`);
  });
}

providerCallback = provider.callback();

// Declare claim names with oidc-provider at run time, so that any name given to
// /__test/account is released under `profile` (ID token and userinfo) and shows
// in discovery's claims_supported.
function registerClaimNames(names) {
  const configuration = providerInternals(provider)?.configuration;
  if (!configuration?.claims?.profile || !(configuration.claimsSupported instanceof Set)) {
    throw new Error('cannot reach oidc-provider claims configuration (internals changed?)');
  }
  for (const name of names) {
    if (!(name in configuration.claims.profile)) configuration.claims.profile[name] = null;
    configuration.claimsSupported.add(name);
  }
}

// ---------------------------------------------------------------------------
// Request handling

function sendJson(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(data),
    'cache-control': 'no-store',
  });
  res.end(data);
}

async function readBody(req, limit = 1 << 20) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function handleTestAccount(req, res) {
  if (req.method === 'GET') {
    sendJson(res, 200, { sub: currentAccount.sub, claims: currentAccount.claims });
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'GET, POST' }).end();
    return;
  }
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch (err) {
    sendJson(res, err.status || 400, { error: 'invalid_body', error_description: `expected a JSON object: ${err.message}` });
    return;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    sendJson(res, 400, { error: 'invalid_body', error_description: 'expected a JSON object' });
    return;
  }
  const { sub } = body;
  const claims = body.claims ?? {};
  if (typeof sub !== 'string' || sub === '') {
    sendJson(res, 400, { error: 'invalid_body', error_description: '"sub" must be a non-empty string' });
    return;
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    sendJson(res, 400, { error: 'invalid_body', error_description: '"claims" must be a JSON object' });
    return;
  }
  const reserved = Object.keys(claims).filter((c) => RESERVED_CLAIMS.has(c));
  if (reserved.length) {
    sendJson(res, 400, { error: 'invalid_body', error_description: `reserved claim names not allowed in "claims": ${reserved.join(', ')}` });
    return;
  }
  registerClaimNames(Object.keys(claims));
  currentAccount = { sub, claims: { ...claims } };
  accounts.set(sub, currentAccount);
  process.stderr.write(`oidc-provider.mjs: test account set: sub=${sub} claims=${Object.keys(claims).join(',') || '(none)'}\n`);
  sendJson(res, 200, { ok: true, sub, claims: currentAccount.claims });
}

function requestedClaimNames(claimsParam) {
  if (!claimsParam) return [];
  try {
    const parsed = typeof claimsParam === 'string' ? JSON.parse(claimsParam) : claimsParam;
    return [
      ...Object.keys(parsed?.id_token ?? {}),
      ...Object.keys(parsed?.userinfo ?? {}),
    ];
  } catch {
    return [];
  }
}

// Finishes any interaction (login and/or consent) at once with the configured
// account, granting every requested OIDC scope and claim.
async function handleInteraction(req, res) {
  if (req.method !== 'GET' && req.method !== 'POST') {
    res.writeHead(405, { allow: 'GET, POST' }).end();
    return;
  }
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    // Typically SessionNotFound: the _interaction cookie was not sent back.
    const description = `${err.error_description || err.message}${err.name === 'SessionNotFound' ? ' (was the _interaction cookie sent back?)' : ''}`;
    process.stderr.write(`oidc-provider.mjs: interaction lookup failed on ${req.url}: ${err.name}: ${description}\n`);
    sendJson(res, 400, { error: err.error || 'invalid_request', error_description: description });
    return;
  }
  const { prompt, params } = details;
  const account = currentAccount;

  // The browser session belongs to another account (the test account was
  // switched): end that session here. Otherwise oidc-provider would answer the
  // resume with an auto-submitting logout-confirmation form, which a plain HTTP
  // client cannot follow.
  if (details.session?.accountId && details.session.accountId !== account.sub) {
    const old = details.session.uid ? await provider.Session.findByUid(details.session.uid) : undefined;
    if (old) await old.destroy();
    details.session = undefined;
    await details.save(details.exp - Math.floor(Date.now() / 1000));
  }

  const grant = new provider.Grant({ accountId: account.sub, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope || 'openid'));
  grant.addOIDCClaims([...new Set([
    ...Object.keys(account.claims),
    ...(prompt?.details?.missingOIDCClaims ?? []),
    ...requestedClaimNames(params.claims),
  ])]);
  const grantId = await grant.save();

  if (debug) {
    process.stderr.write(`oidc-provider.mjs: interaction ${details.uid} prompt=${prompt?.name} reasons=${(prompt?.reasons ?? []).join(',')} -> login ${account.sub}\n`);
  }
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: account.sub }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

async function handle(req, res) {
  const { pathname } = new URL(req.url, issuer);
  if (debug) {
    res.on('finish', () => {
      process.stderr.write(`oidc-provider.mjs: ${req.method} ${req.url} -> ${res.statusCode}${res.getHeader('location') ? ` Location: ${res.getHeader('location')}` : ''}\n`);
    });
  }
  if (pathname === '/__test/account') return handleTestAccount(req, res);
  if (pathname.startsWith('/interaction/')) return handleInteraction(req, res);
  return providerCallback(req, res);
}

// ---------------------------------------------------------------------------
// Lifecycle

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (env.OIDC_EXIT_ON_STDIN_CLOSE === '1') {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

process.stdout.write(`OIDC_ISSUER=${issuer}\n`);
