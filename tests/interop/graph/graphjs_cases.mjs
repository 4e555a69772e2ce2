// @microsoft/microsoft-graph-client 3.0.7 with @azure/identity 4.13.1 (npm, unmodified), used as a
// developer would, against mock-ews's Microsoft Graph mail in exo-harness.
//
//   node graphjs_cases.mjs CASE      (run by ../ews/harness.py, which sets EXO_INTEROP_FIXTURE and
//                                     NODE_EXTRA_CA_CERTS)
//
// The token comes from mock-aad through ClientSecretCredential (authorityHost = mock-aad) and the
// Graph client's own TokenCredentialAuthenticationProvider; the client's baseUrl is mock-ews. Its
// one harness-specific option is customHosts: the client attaches the bearer token only to
// graph.microsoft.com and the hosts listed there, as a developer pointing it at a proxy would set.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { ClientSecretCredential } from "@azure/identity";

const require = createRequire(import.meta.url);
const { Client, ResponseType } = require("@microsoft/microsoft-graph-client");
const { TokenCredentialAuthenticationProvider } = require(
  "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials");

const fx = JSON.parse(readFileSync(process.env.EXO_INTEROP_FIXTURE, "utf8"));
// mock-ews's origin (the control API is "<origin>/_exo"): Graph lives at <origin>/v1.0.
const origin = fx.ewsControl.replace(/\/_exo$/, "");
const user = `/users/${fx.monitor}`;
const version = (name) =>
  JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), "utf8")).version;

async function control(base, method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body: parsed };
}

// Admin consent in Entra (mock-aad's control API): Microsoft Graph Mail.ReadWrite for the daemon.
async function consent(role) {
  const r = await control(fx.aad, "POST", `/_exo/tenants/${fx.tenantId}/applications/${fx.appId}/grants`,
    { resource: "Microsoft Graph", appRole: role });
  assert.ok(r.status < 300, `grant ${role}: ${r.status} ${JSON.stringify(r.body)}`);
}

// Mail arrives (harness control API), one simulated minute apart so the order is defined.
async function deliver(subject) {
  const r = await control(fx.ewsControl, "POST", `/mailboxes/${fx.monitor}/deliver`,
    { from: "orders@fabrikam.com", to: fx.monitor, subject, body: `Body of ${subject}` });
  assert.equal(r.status, 201, `deliver: ${JSON.stringify(r.body)}`);
  const a = await control(fx.ewsControl, "POST", "/clock/advance", { seconds: 61 });
  assert.equal(a.status, 200, `clock/advance: ${JSON.stringify(a.body)}`);
}

function graphClient() {
  const credential = new ClientSecretCredential(fx.tenantId, fx.appId, fx.secret, {
    authorityHost: fx.aad,
    disableInstanceDiscovery: true,
  });
  const authProvider = new TokenCredentialAuthenticationProvider(credential, {
    scopes: ["https://graph.microsoft.com/.default"],
  });
  return Client.initWithMiddleware({
    authProvider,
    baseUrl: `${origin}/`,
    customHosts: new Set([new URL(origin).hostname]),
  });
}

// Every page of a collection, following @odata.nextLink with the client.
async function allPages(client, first) {
  const items = [...first.value];
  let next = first["@odata.nextLink"];
  while (next) {
    const page = await client.api(next).get();
    items.push(...page.value);
    next = page["@odata.nextLink"];
  }
  return items;
}

const cases = {
  // List the inbox newest first in pages of two, then read one message and its MIME.
  async list_read(client) {
    for (const s of ["Order 1", "Order 2", "Order 3"]) await deliver(s);
    const inbox = await client.api(`${user}/mailFolders/inbox`).get();
    assert.equal(inbox.displayName, "Inbox");
    assert.equal(inbox.totalItemCount, 3);
    const first = await client.api(`${user}/mailFolders/inbox/messages`)
      .select("subject,from,receivedDateTime,isRead").top(2).get();
    assert.equal(first.value.length, 2);
    assert.ok(first["@odata.nextLink"], "no @odata.nextLink on the first page");
    const all = await allPages(client, first);
    assert.deepEqual(all.map((m) => m.subject), ["Order 3", "Order 2", "Order 1"]);
    assert.equal(all[0].from.emailAddress.address, "orders@fabrikam.com");
    assert.match(all[0].receivedDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const message = await client.api(`${user}/messages/${all[0].id}`).get();
    assert.equal(message.subject, "Order 3");
    assert.equal(message.id, all[0].id);
    assert.ok(message.internetMessageId?.startsWith("<"), `internetMessageId ${message.internetMessageId}`);
    const mime = await client.api(`${user}/messages/${all[0].id}/$value`).responseType(ResponseType.TEXT).get();
    assert.match(mime, /^Subject: Order 3\r?$/m);
    return `microsoft-graph-client ${version("@microsoft/microsoft-graph-client")}, identity ${version("@azure/identity")}`;
  },

  // Mark a message read with PATCH; it leaves the isRead eq false view.
  async mark_read(client) {
    for (const s of ["Unread 1", "Unread 2"]) await deliver(s);
    const unread = await client.api(`${user}/mailFolders/inbox/messages`).filter("isRead eq false").get();
    assert.equal(unread.value.length, 2);
    const target = unread.value[0];
    const updated = await client.api(`${user}/messages/${target.id}`).update({ isRead: true });
    assert.equal(updated.isRead, true);
    assert.notEqual(updated.changeKey, target.changeKey, "the change key did not change");
    const after = await client.api(`${user}/mailFolders/inbox/messages`).filter("isRead eq false").get();
    assert.deepEqual(after.value.map((m) => m.id), [unread.value[1].id]);
  },

  // A delta round in pages of two, then the next round sees only the new and the changed message;
  // a token the service no longer keeps is a GraphError 410 SyncStateNotFound.
  async delta(client) {
    for (const s of ["Delta 1", "Delta 2", "Delta 3"]) await deliver(s);
    const round = async (request) => {
      const seen = [];
      let page = await request.get();
      for (let n = 0; n < 20; n++) {
        seen.push(...page.value);
        if (page["@odata.deltaLink"]) return { seen, deltaLink: page["@odata.deltaLink"] };
        assert.ok(page["@odata.nextLink"], "a page with neither link");
        page = await client.api(page["@odata.nextLink"]).header("Prefer", "odata.maxpagesize=2").get();
      }
      assert.fail("no @odata.deltaLink after 20 pages");
    };
    const first = await round(client.api(`${user}/mailFolders/inbox/messages/delta`)
      .select("subject,isRead").header("Prefer", "odata.maxpagesize=2"));
    assert.deepEqual(first.seen.map((m) => m.subject).sort(), ["Delta 1", "Delta 2", "Delta 3"]);
    assert.match(first.deltaLink, /\/messages\/delta\?\$deltatoken=/);

    await deliver("Delta 4");
    const marked = first.seen.find((m) => m.subject === "Delta 1");
    await client.api(`${user}/messages/${marked.id}`).update({ isRead: true });
    const second = await round(client.api(first.deltaLink));
    const bySubject = Object.fromEntries(second.seen.map((m) => [m.subject, m]));
    assert.deepEqual(Object.keys(bySubject).sort(), ["Delta 1", "Delta 4"]);
    assert.equal(bySubject["Delta 1"].isRead, true);

    // Three more rounds make the first deltaLink stale (the cache keeps three generations).
    let link = second.deltaLink;
    for (let i = 0; i < 3; i++) link = (await round(client.api(link))).deltaLink;
    try {
      await client.api(first.deltaLink).get();
      assert.fail("a stale deltaLink was served");
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      assert.equal(err.statusCode, 410, `statusCode ${err.statusCode}: ${err.message}`);
      assert.equal(err.code, "SyncStateNotFound");
    }
  },
};

const name = process.argv[2];
if (!cases[name]) {
  console.error(`unknown case '${name}' (${Object.keys(cases).join(", ")})`);
  process.exit(2);
}
await consent("Mail.ReadWrite");
try {
  const note = await cases[name](graphClient());
  console.log(`ok   graphjs_${name}${note ? ` (${note})` : ""}`);
} catch (err) {
  console.log(`FAIL graphjs_${name}: ${err?.message ?? err}`);
  if (process.env.EXO_INTEROP_VERBOSE) console.error(err);
  process.exit(1);
}
