// A real OpenID Connect provider for the console's sign-in tests (tests/interop/test_console_oidc.py):
// oidc-provider with its development login form (any password), one confidential client whose only
// redirect URI is the test console's, and two people: one whose `guichet_role` claim names a console
// role, one without it.
//   node provider.mjs PORT REDIRECT_URI CLIENT_SECRET
import Provider from "oidc-provider";

const [port, redirectUri, clientSecret] = process.argv.slice(2);
const people = {
  camille: { name: "Camille Martin", email: "camille.martin@interieur.gouv.fr", guichet_role: "operateur" },
  dominique: { given_name: "Dominique", family_name: "Sansrôle" },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: "console-supervision",
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      response_types: ["code"],
      grant_types: ["authorization_code"],
    },
  ],
  // The role travels with the `profile` scope, in the ID token itself (as a federation's attribute
  // mapping puts it), not only in the UserInfo answer.
  claims: {
    openid: ["sub"],
    profile: ["name", "given_name", "family_name", "guichet_role"],
    email: ["email"],
  },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["des clés de test, jamais ailleurs"] },
  async findAccount(ctx, id) {
    if (!(id in people)) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...people[id] }; } };
  },
});

provider.listen(Number(port), "127.0.0.1", () => console.log(`ready ${port}`));
