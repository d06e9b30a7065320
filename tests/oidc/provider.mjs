// A real OpenID Connect provider for the tests (the npm package oidc-provider), on a free
// port of 127.0.0.1. Started by tests/oidc/servers.py with its settings as JSON in the
// environment variable OIDC_TEST_CONFIG:
//   {"client_id", "client_secret", "redirect_uris": [...], "post_logout_redirect_uris": [...],
//    "users": {"<sub>": {"email", "name", "preferred_username", "groups": [...]}}}
// Prints one line, {"issuer": "http://127.0.0.1:<port>"}, once it listens.
// The sign-in page is a plain form below (username = a user's sub; any password), and so is
// the sign-out question: the package's own development pages load web fonts from the
// internet, and the tests reach nothing but 127.0.0.1. PACE Flow is a first-party client,
// so the consent prompt is granted for it here, as a council's provider does for its own
// services.
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const SCOPE = 'openid email profile groups';
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(body))));
    req.on('error', reject);
  });
}

async function signInPage(provider, req, res) {
  const { uid, prompt } = await provider.interactionDetails(req, res);
  if (req.method === 'POST') {
    const form = await readForm(req);
    if (prompt.name === 'login' && config.users[form.username] && form.password) {
      await provider.interactionFinished(req, res, { login: { accountId: form.username } },
        { mergeWithLastSubmission: false });
      return;
    }
    if (prompt.name !== 'login') {
      await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
      return;
    }
  }
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(page('Council sign-in', `<form method="post" action="/interaction/${escape(uid)}">
    <label for="username">Council username</label> <input id="username" name="username">
    <label for="password">Council password</label> <input id="password" name="password" type="password">
    <button type="submit">Sign in to the council</button></form>`));
}

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
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page('Sign out of the council', `${form}
            <button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`);
        },
      },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
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
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (!req.url.startsWith('/interaction/')) return callback(req, res);
    return signInPage(provider, req, res).catch((error) => {
      res.statusCode = 400;
      res.end(page('Council sign-in failed', `<p>${escape(error.message)}</p>`));
    });
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
