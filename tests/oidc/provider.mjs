// provider.mjs — local OpenID Provider for the Rust relying-party tests.
//
// Usage: node provider.mjs CONFIG.json
//
// Runs the real `oidc-provider` package (panva, pinned 9.13.3) on 127.0.0.1.
// When it is listening it prints exactly one line to stdout:
//
//     ready http://127.0.0.1:<port>
//
// (that URL is the issuer, no trailing slash) and then runs until SIGTERM/SIGINT.
// Everything else (errors, oidc-provider's own warnings) goes to stderr.
//
// What this provider does beyond the oidc-provider defaults (see README.md):
//  * clients come from CONFIG.json; every client gets id_token_signed_response_alg ES256
//  * signing keys (EC P-256 "ES256" + RSA "RS256") are generated fresh at start
//  * PKCE is required for every authorization-code request (S256 only)
//  * login and consent are non-interactive: GET /interaction/:uid logs in
//    CONFIG.account.sub / grants everything that was asked and 303-redirects back,
//    so a plain HTTP client that follows redirects and keeps cookies reaches the
//    redirect_uri with code, state and iss (RFC 9207)
//  * GOV.UK One Login style `vtr` request parameter -> `vot` claim in the ID token
//    ("P2" when the vtr contains P2, otherwise "P0")
//  * RP-initiated logout enabled (end_session_endpoint in discovery)
//  * client_credentials + resource indicators: JWT (at+jwt, ES256) access tokens
//    for CONFIG.resource.audience with the scopes in CONFIG.resource.scope

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

// ---------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: node provider.mjs CONFIG.json\n');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));

const port = Number(config.port ?? 0);
const accountSub = config.account?.sub ?? 'user-123';
const resourceAudience = config.resource?.audience;
const resourceScope = config.resource?.scope ?? '';

if (!Array.isArray(config.clients) || config.clients.length === 0) {
  process.stderr.write('config: "clients" must be a non-empty array\n');
  process.exit(2);
}

// ---------------------------------------------------------------------------
// Signing keys (fresh per run): EC P-256 first, so it is the ES256 key used for
// ID tokens and JWT access tokens; an RSA key is published as well.
// ---------------------------------------------------------------------------

function privateJwk(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid: `${alg.toLowerCase()}-${randomUUID()}`, alg, use: 'sig' };
}

const jwks = {
  keys: [
    privateJwk('ec', { namedCurve: 'P-256' }, 'ES256'),
    privateJwk('rsa', { modulusLength: 2048 }, 'RS256'),
  ],
};

// ---------------------------------------------------------------------------
// vtr -> vot
//
// The authorization request's `vtr` (e.g. `["Cl.Cm.P2"]`) is only known at the
// authorization endpoint, but for the code flow the ID token is minted at the
// token endpoint. oidc-provider does not persist extra params on the
// authorization code, so we remember the decision per authorization code:
// on the `authorization_code.saved` event (fired inside the authorization
// request, so Provider.ctx — oidc-provider's AsyncLocalStorage context — has the
// request params, including the resumed `vtr`) we store code.jti -> vot, and
// findAccount() looks it up via the `token` argument (the AuthorizationCode at
// the token endpoint). Access tokens (userinfo) and refresh tokens inherit the
// value from the code / refresh token they were issued from.
// ---------------------------------------------------------------------------

function votFromVtr(vtr) {
  // "contains P2" as a component of any vector, e.g. ["Cl.Cm.P2"] or "Cl.Cm.P2"
  return typeof vtr === 'string' && /(^|[^A-Za-z0-9])P2([^A-Za-z0-9]|$)/.test(vtr) ? 'P2' : 'P0';
}

const votByTokenId = new Map(); // jti of AuthorizationCode / AccessToken / RefreshToken -> "P0" | "P2"

// ---------------------------------------------------------------------------
// Accounts: a single account, CONFIG.account.sub
// ---------------------------------------------------------------------------

async function findAccount(ctx, id, token) {
  if (id !== accountSub) return undefined;
  return {
    accountId: id,
    async claims(_use, _scope, _claims, _rejected) {
      const vot = (token && votByTokenId.get(token.jti))
        // ID tokens minted at the authorization endpoint (not used by the code flow)
        ?? votFromVtr(ctx?.oidc?.params?.vtr);
      return { sub: id, vot };
    },
  };
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

const clients = config.clients.map((c) => ({
  // application_type stays the default "web": oidc-provider 9 accepts plain
  // http://127.0.0.1:PORT redirect URIs for web clients (only the implicit flow
  // requires https), and web clients get exact redirect_uri matching.
  ...c,
  id_token_signed_response_alg: 'ES256',
}));

// ---------------------------------------------------------------------------
// Start: bind first so the issuer can contain the real port
// ---------------------------------------------------------------------------

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = buildProvider(issuer);
  server.on('request', provider.callback());
  process.stdout.write(`ready ${issuer}\n`);
});
server.on('error', (err) => {
  process.stderr.write(`server error: ${err.stack || err}\n`);
  process.exit(1);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

// ---------------------------------------------------------------------------
// Provider
// ---------------------------------------------------------------------------

function buildProvider(issuer) {
  const provider = new Provider(issuer, {
    clients,
    jwks,
    findAccount,
    cookies: { keys: [randomBytes(32).toString('base64url')] },

    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 supports

    // `vtr` is accepted on the authorization request and kept across interactions.
    extraParams: ['vtr'],
    // Release `vot` with the openid scope, and put scope-requested claims into
    // the ID token even though an access token for userinfo is also issued.
    claims: { openid: ['sub', 'vot'] },
    conformIdTokenClaims: false,

    features: {
      devInteractions: { enabled: false }, // replaced by the /interaction/:uid middleware below
      rpInitiatedLogout: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // With or without `resource`, the request goes to the one resource server.
        async defaultResource(_ctx, _client, oneOf) {
          if (oneOf) return oneOf;
          return resourceAudience;
        },
        async getResourceServerInfo(_ctx, resourceIndicator, _client) {
          if (!resourceAudience || resourceIndicator !== resourceAudience) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: resourceScope,
            audience: resourceAudience,
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt', // typ "at+jwt", iss, sub = client_id, aud, scope, client_id, jti
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  });

  // --- vot bookkeeping (see the comment at votFromVtr) ---------------------
  provider.on('authorization_code.saved', (code) => {
    votByTokenId.set(code.jti, votFromVtr(Provider.ctx?.oidc?.params?.vtr));
  });
  // Access tokens (for userinfo) and refresh tokens inherit the value of the
  // code / refresh token they were issued from at the token endpoint.
  const inheritVot = (token) => {
    const { AuthorizationCode, RefreshToken } = Provider.ctx?.oidc?.entities ?? {};
    const from = AuthorizationCode ?? RefreshToken;
    if (from && votByTokenId.has(from.jti)) votByTokenId.set(token.jti, votByTokenId.get(from.jti));
  };
  provider.on('refresh_token.saved', inheritVot);
  provider.on('access_token.saved', inheritVot);

  // --- error logging: stderr only -----------------------------------------
  provider.on('server_error', (ctx, err) => {
    process.stderr.write(`server_error ${ctx?.method} ${ctx?.path}: ${err.stack || err}\n`);
  });
  for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'userinfo.error', 'jwks.error', 'discovery.error']) {
    provider.on(event, (ctx, err) => {
      const detail = err.error_detail ? ` (${err.error_detail})` : '';
      process.stderr.write(`${event} ${ctx?.method} ${ctx?.path}: ${err.message}${detail}\n`);
    });
  }

  // --- non-interactive login + consent -------------------------------------
  provider.use(async (ctx, next) => {
    const match = ctx.method === 'GET' && /^\/interaction\/([^/]+)$/.exec(ctx.path);
    if (!match) return next();

    try {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== match[1]) throw new Error('interaction uid mismatch');
      const { prompt, params } = details;
      let result;

      if (prompt.name === 'login') {
        result = { login: { accountId: accountSub } };
      } else if (prompt.name === 'consent') {
        const accountId = details.session.accountId;
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId, clientId: params.client_id });
        const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
        if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
        if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
        if (missingResourceScopes) {
          for (const [indicator, scopes] of Object.entries(missingResourceScopes)) {
            grant.addResourceScope(indicator, scopes.join(' '));
          }
        }
        const grantId = await grant.save();
        result = { consent: { grantId } };
      } else {
        throw new Error(`unsupported prompt ${prompt.name}`);
      }

      // Writes a 303 to the authorization resume endpoint straight onto ctx.res.
      ctx.respond = false;
      await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    } catch (err) {
      process.stderr.write(`interaction error: ${err.stack || err}\n`);
      ctx.respond = true;
      ctx.status = err.statusCode || 400;
      ctx.type = 'text/plain';
      ctx.body = `interaction failed: ${err.message}\n`;
    }
  });

  return provider;
}
