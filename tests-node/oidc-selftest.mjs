// End-to-end self-test of tests-node/oidc-provider.mjs.
//
// Starts the provider as a child process on port 0, then, as a plain HTTP
// client (fetch with manual redirects and a small cookie jar), runs the
// authorization code flow with PKCE S256, state and nonce, exchanges the code
// with client_secret_basic, verifies the RS256 ID token against the JWKS and
// checks the custom claims in the ID token and at userinfo. Also checks that
// PKCE is required, that the cookies are needed, account switching, and
// client_secret_post.
//
// Usage: node tests-node/oidc-selftest.mjs   (prints OK, exit 0; else exit 1)

import { spawn } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const CLIENT_ID = 'push-test-client';
const CLIENT_SECRET = 'push-test-secret';
const REDIRECT_URI = 'http://127.0.0.1:9/auth/oidc/callback'; // nothing listens there
const OTHER_REDIRECT_URI = 'http://localhost:9/other/callback';
const FISCAL_URL_CLAIM = 'https://attributes.eid.gov.it/fiscal_number';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const decodeJwtPart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

let passed = 0;
function check(name, fn) {
  fn();
  passed += 1;
  console.log(`ok - ${name}`);
}

// --- provider child process -------------------------------------------------

const providerPath = fileURLToPath(new URL('./oidc-provider.mjs', import.meta.url));
const child = spawn(process.execPath, [providerPath], {
  env: {
    ...process.env,
    OIDC_PORT: '0',
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: CLIENT_SECRET,
    OIDC_REDIRECT_URI: `${REDIRECT_URI}, ${OTHER_REDIRECT_URI}`,
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let childStderr = '';
child.stderr.on('data', (d) => { childStderr += d; });

function stopChild() {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}
process.on('exit', stopChild);

async function readIssuer() {
  const lines = createInterface({ input: child.stdout });
  const timeout = setTimeout(() => {
    console.error('provider did not print OIDC_ISSUER within 20s');
    stopChild();
  }, 20000);
  try {
    const exited = once(child, 'exit').then(() => { throw new Error(`provider exited early:\n${childStderr}`); });
    const first = (async () => {
      for await (const line of lines) return line;
      throw new Error(`provider stdout closed without a line:\n${childStderr}`);
    })();
    const line = await Promise.race([first, exited]);
    const m = /^OIDC_ISSUER=(http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    if (!m) throw new Error(`unexpected first stdout line: ${JSON.stringify(line)}`);
    // Any further stdout output breaks the contract.
    lines.on('line', (l) => { throw new Error(`unexpected extra stdout line: ${JSON.stringify(l)}`); });
    return m[1];
  } finally {
    clearTimeout(timeout);
  }
}

// --- tiny cookie jar (name, value, path; host-only on 127.0.0.1) ------------

class CookieJar {
  cookies = new Map(); // key "path|name" -> {name, value, path}

  store(response, requestUrl) {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = new URL(requestUrl).pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        if (k.toLowerCase() === 'path') path = v;
        if (k.toLowerCase() === 'expires' && new Date(v) <= new Date()) expired = true;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const key = `${path}|${name}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    const matches = [...this.cookies.values()].filter((c) => (
      pathname === c.path
      || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)
    ));
    return matches.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

// Follows redirects by hand from `url` until a Location on `stopPrefix`.
async function followToRedirectUri(url, stopPrefix, jar) {
  const hops = [];
  let current = url;
  for (let i = 0; i < 10; i += 1) {
    const headers = {};
    const cookie = jar?.header(current);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(current, { redirect: 'manual', headers });
    jar?.store(res, current);
    const location = res.headers.get('location');
    hops.push({
      url: current,
      status: res.status,
      location,
      sentCookies: cookie ? cookie.split('; ').map((c) => c.split('=')[0]) : [],
      setCookies: res.headers.getSetCookie().map((c) => c.split(';')[0].split('=')[0]),
    });
    if (!location) {
      return { hops, final: null, body: await res.text() };
    }
    await res.arrayBuffer();
    const next = new URL(location, current).href;
    if (next.startsWith(stopPrefix)) return { hops, final: new URL(next) };
    current = next;
  }
  throw new Error(`too many redirects: ${JSON.stringify(hops, null, 2)}`);
}

function pkcePair() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

function authUrl(discovery, { state, nonce, challenge, redirectUri = REDIRECT_URI, pkce = true }) {
  const u = new URL(discovery.authorization_endpoint);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri,
    scope: 'openid profile',
    state,
    nonce,
    ...(pkce ? { code_challenge: challenge, code_challenge_method: 'S256' } : {}),
  }).toString();
  return u.href;
}

async function tokenRequest(discovery, params, { auth = 'basic' } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams(params);
  if (auth === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;
  } else {
    body.set('client_id', CLIENT_ID);
    body.set('client_secret', CLIENT_SECRET);
  }
  const res = await fetch(discovery.token_endpoint, { method: 'POST', headers, body });
  return { status: res.status, json: await res.json() };
}

async function verifyIdToken(discovery, idToken) {
  const [h, p, s] = idToken.split('.');
  const header = decodeJwtPart(h);
  const payload = decodeJwtPart(p);
  assert.equal(header.alg, 'RS256');
  const jwks = await (await fetch(discovery.jwks_uri)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} not in JWKS`);
  assert.equal(jwk.kty, 'RSA');
  assert.equal(jwk.d, undefined, 'JWKS must not expose the private key');
  const ok = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
  assert.ok(ok, 'ID token signature does not verify');
  return { header, payload };
}

async function setAccount(issuer, body) {
  const res = await fetch(`${issuer}/__test/account`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

// Full login: returns everything observed.
async function login(discovery, jar, { redirectUri = REDIRECT_URI, auth = 'basic' } = {}) {
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const { verifier, challenge } = pkcePair();
  const flow = await followToRedirectUri(authUrl(discovery, { state, nonce, challenge, redirectUri }), redirectUri, jar);
  assert.ok(flow.final, `did not reach redirect_uri: ${JSON.stringify(flow, null, 2)}`);
  const code = flow.final.searchParams.get('code');
  assert.ok(code, `no code in ${flow.final}`);
  assert.equal(flow.final.searchParams.get('state'), state);
  assert.equal(flow.final.searchParams.get('iss'), discovery.issuer);
  const token = await tokenRequest(discovery, {
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier,
  }, { auth });
  assert.equal(token.status, 200, JSON.stringify(token.json));
  const idToken = await verifyIdToken(discovery, token.json.id_token);
  const ui = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${token.json.access_token}` } });
  const userinfo = await ui.json();
  assert.equal(ui.status, 200, JSON.stringify(userinfo));
  return { flow, state, nonce, token: token.json, idToken, userinfo };
}

// --- the test ----------------------------------------------------------------

async function main() {
  const issuer = await readIssuer();
  console.log(`# provider issuer: ${issuer}`);

  const discoveryRes = await fetch(`${issuer}/.well-known/openid-configuration`);
  const discovery = await discoveryRes.json();
  check('discovery document', () => {
    assert.equal(discoveryRes.status, 200);
    assert.equal(discovery.issuer, issuer);
    assert.ok(discovery.authorization_endpoint.startsWith(issuer));
    assert.ok(discovery.token_endpoint.startsWith(issuer));
    assert.ok(discovery.userinfo_endpoint.startsWith(issuer));
    assert.ok(discovery.jwks_uri.startsWith(issuer));
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    assert.ok(discovery.id_token_signing_alg_values_supported.includes('RS256'));
    assert.ok(discovery.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.ok(discovery.scopes_supported.includes('profile'));
    assert.ok(discovery.claims_supported.includes(FISCAL_URL_CLAIM));
  });

  const claims = {
    [FISCAL_URL_CLAIM]: 'TINIT-RSSMRA80A01A662X',
    fiscal_number: 'RSSMRA80A01A662X',
    fiscalNumber: 'TINIT-RSSMRA80A01A662X',
    given_name: 'Mario',
    family_name: 'Rossi',
    custom_claim_not_predeclared: 'hello',
  };
  const set = await setAccount(issuer, { sub: 'abc', claims });
  check('POST /__test/account', () => {
    assert.equal(set.status, 200, JSON.stringify(set.json));
    assert.equal(set.json.ok, true);
  });
  {
    const noSub = await setAccount(issuer, { claims: {} });
    const reserved = await setAccount(issuer, { sub: 'x', claims: { nonce: 'n' } });
    check('POST /__test/account rejects a missing sub and reserved claim names', () => {
      assert.equal(noSub.status, 400);
      assert.equal(reserved.status, 400);
    });
    const current = await (await fetch(`${issuer}/__test/account`)).json();
    check('GET /__test/account returns the current account', () => {
      assert.equal(current.sub, 'abc');
    });
  }

  const jar = new CookieJar();
  const first = await login(discovery, jar);
  console.log('# redirect hops of the first login (fresh cookie jar):');
  for (const hop of first.flow.hops) {
    console.log(`#   GET ${hop.url.replace(issuer, '<issuer>').replace(/\?.*/, '?...')} -> ${hop.status} Location: ${(hop.location || '').replace(issuer, '<issuer>').replace(/\?.*/, '?...')} | sent cookies: [${hop.sentCookies.join(', ')}] | set: [${hop.setCookies.join(', ')}]`);
  }
  check('first login: 3 redirects (auth -> interaction -> auth resume -> redirect_uri)', () => {
    assert.equal(first.flow.hops.length, 3);
    assert.ok(first.flow.hops.every((h) => h.status === 303));
  });
  check('ID token: RS256, iss, aud, nonce, sub', () => {
    const { payload } = first.idToken;
    assert.equal(payload.iss, issuer);
    assert.equal(payload.aud, CLIENT_ID);
    assert.equal(payload.nonce, first.nonce);
    assert.equal(payload.sub, 'abc');
    assert.ok(payload.exp > Math.floor(Date.now() / 1000));
  });
  check('ID token carries the custom claims', () => {
    for (const [k, v] of Object.entries(claims)) assert.equal(first.idToken.payload[k], v, `ID token claim ${k}`);
  });
  check('userinfo carries sub and the custom claims', () => {
    assert.equal(first.userinfo.sub, 'abc');
    for (const [k, v] of Object.entries(claims)) assert.equal(first.userinfo[k], v, `userinfo claim ${k}`);
  });
  check('token response', () => {
    assert.equal(first.token.token_type, 'Bearer');
    assert.ok(first.token.scope.split(' ').includes('profile'));
  });

  // Same cookie jar, same account: the session is reused.
  const second = await login(discovery, jar);
  check(`second login, same account and jar: ${second.flow.hops.length} redirect(s), same claims`, () => {
    assert.equal(second.idToken.payload.sub, 'abc');
    assert.equal(second.idToken.payload[FISCAL_URL_CLAIM], claims[FISCAL_URL_CLAIM]);
  });
  console.log(`#   second login hops: ${second.flow.hops.map((h) => `${h.status} -> ${(h.location || '').replace(issuer, '<issuer>').replace(/\?.*/, '?...')}`).join(' | ')}`);

  // Switch account; the same jar must get the new account.
  const claims2 = { fiscalNumber: 'VRDLGU75B02F205Z', given_name: 'Luigi', family_name: 'Verdi' };
  assert.equal((await setAccount(issuer, { sub: 'def', claims: claims2 })).status, 200);
  const third = await login(discovery, jar);
  console.log(`#   login after switching account (same jar) hops: ${third.flow.hops.map((h) => `${h.status} -> ${(h.location || '').replace(issuer, '<issuer>').replace(/\?.*/, '?...')}`).join(' | ')}`);
  check('after POST /__test/account, the same cookie jar logs in as the new account', () => {
    assert.equal(third.idToken.payload.sub, 'def');
    assert.equal(third.userinfo.sub, 'def');
    for (const [k, v] of Object.entries(claims2)) {
      assert.equal(third.idToken.payload[k], v);
      assert.equal(third.userinfo[k], v);
    }
    assert.equal(third.idToken.payload[FISCAL_URL_CLAIM], undefined);
    assert.equal(third.userinfo.fiscal_number, undefined);
  });

  // Fresh jar, second registered redirect URI, client_secret_post.
  const fourth = await login(discovery, new CookieJar(), { redirectUri: OTHER_REDIRECT_URI, auth: 'post' });
  check('second redirect URI (localhost) and client_secret_post', () => {
    assert.equal(fourth.idToken.payload.sub, 'def');
  });

  // Without a cookie jar the flow cannot complete.
  {
    const { challenge } = pkcePair();
    const flow = await followToRedirectUri(authUrl(discovery, { state: 's', nonce: 'n', challenge }), REDIRECT_URI, null);
    check('cookies are required across the hops', () => {
      assert.equal(flow.final, null);
      assert.equal(flow.hops.at(-1).status, 400);
    });
  }

  // PKCE is required.
  {
    const flow = await followToRedirectUri(authUrl(discovery, { state: 's1', nonce: 'n1', pkce: false }), REDIRECT_URI, new CookieJar());
    check('authorization request without PKCE is rejected', () => {
      assert.ok(flow.final, JSON.stringify(flow));
      assert.equal(flow.final.searchParams.get('error'), 'invalid_request');
      assert.match(flow.final.searchParams.get('error_description'), /PKCE/);
      assert.equal(flow.final.searchParams.get('state'), 's1');
    });
  }

  // Wrong code_verifier is rejected.
  {
    const { challenge } = pkcePair();
    const flow = await followToRedirectUri(authUrl(discovery, { state: 's2', nonce: 'n2', challenge }), REDIRECT_URI, new CookieJar());
    const token = await tokenRequest(discovery, {
      grant_type: 'authorization_code',
      code: flow.final.searchParams.get('code'),
      redirect_uri: REDIRECT_URI,
      code_verifier: pkcePair().verifier,
    });
    check('token request with a wrong code_verifier is rejected', () => {
      assert.equal(token.status, 400);
      assert.equal(token.json.error, 'invalid_grant');
    });
  }

  // Wrong client secret is rejected.
  {
    const res = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:wrong`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT_URI, code_verifier: 'x'.repeat(43) }),
    });
    const json = await res.json();
    check('wrong client secret is rejected', () => {
      assert.equal(res.status, 401);
      assert.equal(json.error, 'invalid_client');
    });
  }

  // Unregistered redirect URI is rejected (rendered as an error page, no redirect).
  {
    const { challenge } = pkcePair();
    const flow = await followToRedirectUri(authUrl(discovery, { state: 's3', nonce: 'n3', challenge, redirectUri: 'http://127.0.0.1:9/evil' }), 'http://127.0.0.1:9/evil', new CookieJar());
    check('unregistered redirect_uri is rejected', () => {
      assert.equal(flow.final, null);
      assert.equal(flow.hops[0].status, 400);
    });
  }

  console.log(`${passed} passed, 0 failed`);
  console.log('OK');
}

try {
  await main();
  stopChild();
  process.exit(0);
} catch (err) {
  console.error(`FAIL: ${err?.stack || err}`);
  console.error(`--- provider stderr ---\n${childStderr}`);
  stopChild();
  process.exit(1);
}
