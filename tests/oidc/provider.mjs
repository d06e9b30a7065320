// A real OpenID Connect provider for the tests (the npm package oidc-provider), on a free
// port of 127.0.0.1. Started by tests/oidc/servers.py with its settings as JSON in the
// environment variable OIDC_TEST_CONFIG:
//   {"client_id", "client_secret", "redirect_uris": [...], "post_logout_redirect_uris": [...],
//    "users": {"<sub>": {"email", "name", "preferred_username", "groups": [...]}}}
// Prints one line, {"issuer": "http://127.0.0.1:<port>"}, once it listens.
// Sign-in pages are the package's development interactions (a username form; any password).
// PACE Flow is a first-party client, so the consent prompt is granted for it here, as a
// council's provider does for its own services.
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const SCOPE = 'openid email profile groups';

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: config.redirect_uris,
      post_logout_redirect_uris: config.post_logout_redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    scopes: SCOPE.split(' '),
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    // the claims of the scopes asked for go in the ID token, where PACE Flow reads them
    conformIdTokenClaims: false,
    pkce: { required: () => true }, // every authorization request must carry a S256 challenge
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: ['test-only-cookie-key'] },
    async findAccount(ctx, sub) {
      const user = config.users[sub];
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() { return { sub, email_verified: true, ...user }; },
      };
    },
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPE);
      await grant.save();
      return grant;
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
