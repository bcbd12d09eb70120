// A real OpenID Connect provider (npm oidc-provider 9) for Dayaq's single sign-on tests
// (issue 22 §1). Started by scripts/test on a free port: `node e2e/oidc/provider.mjs PORT`;
// its issuer is http://127.0.0.1:PORT. TEST ONLY: open dynamic client registration, no
// passwords, an in-memory store.
//
// - Clients are registered by each test through dynamic registration (POST /reg) with its own
//   redirect URI. `client_name` picks how the token endpoint behaves:
//     "dayaq-test"                 normal;
//     "dayaq-test:wrong_audience"  the ID token is re-signed (same key) with another `aud`;
//     "dayaq-test:expired"         the ID token is re-signed with `exp` an hour in the past.
// - The login interaction signs in as the authorization request's `login_hint` at once (the
//   tests add it to the authorization URL): no HTML forms to fill.
// - Accounts are made up from their id: e-mail `<id>@agency.example` (an id starting with
//   `out-` gets `@elsewhere.example`), verified; `groups` is ["nrm-supervisors"] for ids
//   containing "-sup", ["nrm-caseworkers"] for ids containing "-cw", [] otherwise.
import Provider from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.argv[2] || process.env.PORT || 0);
if (!port) {
  console.error('usage: node provider.mjs PORT');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await jose.exportJWK(privateKey)), kid: 'dayaq-test-key', alg: 'RS256', use: 'sig' };

function claimsOf(id) {
  const domain = id.startsWith('out-') ? 'elsewhere.example' : 'agency.example';
  const groups = id.includes('-sup') ? ['nrm-supervisors'] : id.includes('-cw') ? ['nrm-caseworkers'] : [];
  return { sub: id, email: `${id}@${domain}`, email_verified: true, name: id, groups };
}

const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
  conformIdTokenClaims: false,
  cookies: { keys: ['dayaq-test-only-cookie-key'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => claimsOf(id) }),
  pkce: { required: () => true },
});

provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const accountId = details.params.login_hint;
    if (!accountId) {
      ctx.status = 400;
      ctx.body = 'this test provider signs in as login_hint: add it to the authorization request';
      return;
    }
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    const to = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    ctx.redirect(to);
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.body && typeof ctx.body === 'object' && ctx.body.id_token) {
    const mode = ctx.oidc?.client?.clientName?.split(':')[1];
    if (mode === 'wrong_audience' || mode === 'expired') {
      const payload = jose.decodeJwt(ctx.body.id_token);
      const now = Math.floor(Date.now() / 1000);
      if (mode === 'wrong_audience') payload.aud = 'another-relying-party';
      if (mode === 'expired') {
        payload.iat = now - 7200;
        payload.exp = now - 3600;
      }
      ctx.body.id_token = await new jose.SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
        .sign(privateKey);
    }
  }
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc test provider on ${issuer}`);
});
