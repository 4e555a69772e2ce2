// ews-javascript-api 0.15.3 (npm), used as a developer would, against exo-harness.
//
//   node ewsjs_cases.mjs CASE      (run by harness.py, which sets EXO_INTEROP_FIXTURE and NODE_EXTRA_CA_CERTS)
//
// The token comes from mock-aad through @azure/msal-node; ews-javascript-api sends EWS through its
// default @ewsjs/xhr (axios over Node's https), which trusts the harness CA via NODE_EXTRA_CA_CERTS.
import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { XhrApi } from "@ewsjs/xhr";
import ews from "ews-javascript-api";

const {
  BasePropertySet,
  ConfigurationApi,
  ConnectingIdType,
  EmailMessage,
  EmailMessageSchema,
  EventType,
  ExchangeService,
  ExchangeVersion,
  FolderId,
  ImpersonatedUserId,
  ItemSchema,
  ItemView,
  OAuthCredentials,
  PropertySet,
  SearchFilter,
  SortDirection,
  StreamingSubscriptionConnection,
  Uri,
  WellKnownFolderName,
} = ews;

const fx = JSON.parse(readFileSync(process.env.EXO_INTEROP_FIXTURE, "utf8"));
// A test that hangs is a failure: bound every wait well under the CTest timeout.
const WAIT_MS = 20000;

// Diagnostics only: the default transport (@ewsjs/xhr), installed through the library's own
// ConfigurationApi.ConfigureXHR hook, remembering each exchange so a failure shows what was sent.
const exchanges = [];
class RecordingXhr extends XhrApi {
  async xhr(options, progress) {
    const entry = { sent: options.data };
    exchanges.push(entry);
    try {
      const r = await super.xhr(options, progress);
      Object.assign(entry, { status: r.status, got: r.responseText });
      return r;
    } catch (e) {
      Object.assign(entry, { status: e?.status, got: e?.responseText ?? e?.message });
      throw e;
    }
  }

  xhrStream(options, progress) {
    const entry = { sent: options.data, got: "" };
    exchanges.push(entry);
    return super.xhrStream(options, (p) => {
      if (p.type === "data") entry.got += p.data;
      if (p.type === "end") entry.got += "\n[stream ended by the server]";
      if (p.type === "error") entry.got += `\n[stream error: ${p.error?.message}]`;
      progress(p);
    });
  }
}
ConfigurationApi.ConfigureXHR(new RecordingXhr());

function dumpExchanges(last = 4, limit = 3000) {
  console.error(`--- last ${Math.min(last, exchanges.length)} of ${exchanges.length} EWS exchanges (ews-javascript-api) ---`);
  for (const e of exchanges.slice(-last)) {
    console.error(`POST -> ${e.status ?? "(streaming)"}\n  sent: ${String(e.sent).slice(0, limit)}\n  got:  ${String(e.got).slice(0, limit)}`);
  }
}

async function control(method, path, body) {
  const r = await fetch(fx.ewsControl + path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

async function deliver(subject, body = "Hello from the interop test", { stepClock = true } = {}) {
  const r = await control("POST", `/mailboxes/${fx.monitor}/deliver`, {
    from: "orders@fabrikam.com",
    to: fx.monitor,
    subject,
    body,
  });
  assert.ok(r.status === 200 || r.status === 201, `deliver: ${r.status} ${JSON.stringify(r.body)}`);
  if (stepClock) {
    // DateTimeReceived has whole seconds: step the clock so the order is unambiguous.
    const a = await control("POST", "/clock/advance", { seconds: 61 });
    assert.equal(a.status, 200, `clock/advance: ${JSON.stringify(a.body)}`);
  }
  return r.body;
}

async function service() {
  const cca = new ConfidentialClientApplication({
    auth: {
      clientId: fx.appId,
      clientSecret: fx.secret,
      authority: `${fx.aad}/${fx.tenantId}`,
      // 127.0.0.1:PORT is no Microsoft cloud: without this msal-node asks login.microsoftonline.com.
      knownAuthorities: [new URL(fx.aad).host],
    },
  });
  const token = await cca.acquireTokenByClientCredential({ scopes: [`${fx.resource}/.default`] });
  assert.ok(token?.accessToken, "no access token from mock-aad");
  const svc = new ExchangeService(ExchangeVersion.Exchange2016);
  svc.Url = new Uri(fx.ews);
  svc.Credentials = new OAuthCredentials(token.accessToken);
  svc.ImpersonatedUserId = new ImpersonatedUserId(ConnectingIdType.SmtpAddress, fx.monitor);
  // Exchange Online routes by this header; ews-javascript-api does not add it.
  svc.HttpHeaders.Add("X-AnchorMailbox", fx.monitor);
  return svc;
}

function ok(what) {
  console.log(`ok: ${what}`);
}

/** Rejects after WAIT_MS with `what`, so a missing event fails instead of hanging. */
function within(promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${WAIT_MS} ms: ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function unreadNewestFirst(pageSize = 10) {
  const view = new ItemView(pageSize);
  view.OrderBy.Add(ItemSchema.DateTimeReceived, SortDirection.Descending);
  return [new SearchFilter.IsEqualTo(EmailMessageSchema.IsRead, false), view];
}

const cases = {
  async find_bind_mime() {
    await deliver("Order 0", "first");
    await deliver("Order 1", "second");
    const svc = await service();
    const [filter, view] = unreadNewestFirst();
    const found = await svc.FindItems(WellKnownFolderName.Inbox, filter, view);
    const subjects = found.Items.map((i) => i.Subject);
    assert.deepEqual(subjects, ["Order 1", "Order 0"]);
    assert.equal(found.TotalCount, 2);
    assert.equal(found.MoreAvailable, false);
    ok("FindItems(Inbox, IsRead = false, DateTimeReceived descending) lists both mails, newest first");

    const ps = new PropertySet(BasePropertySet.FirstClassProperties, [ItemSchema.MimeContent]);
    const item = await EmailMessage.Bind(svc, found.Items[0].Id, ps);
    assert.equal(item.Subject, "Order 1");
    assert.equal(item.From?.Address, "orders@fabrikam.com");
    const content = item.MimeContent?.Content;
    assert.ok(content, "MimeContent has no content");
    const mime = Buffer.from(content, "base64").toString("utf8");
    assert.match(mime, /^Subject: Order 1\r?$/m, "MIME has the subject header");
    assert.match(mime, /second/, "MIME has the body text");
    ok("EmailMessage.Bind with ItemSchema.MimeContent returns the message's MIME (base64)");
  },

  async streaming_new_mail() {
    const svc = await service();
    const sub = await svc.SubscribeToStreamingNotifications(
      [new FolderId(WellKnownFolderName.Inbox)],
      EventType.NewMail,
    );
    assert.ok(sub.Id, "no subscription id");
    ok("SubscribeToStreamingNotifications(Inbox, NewMail) returns a subscription");

    const connection = new StreamingSubscriptionConnection(svc, 5);  // lifetime in minutes
    connection.AddSubscription(sub);
    const newMail = new Promise((resolve, reject) => {
      connection.OnNotificationEvent.push((_, args) => {
        const events = args.Events.filter((e) => e.EventType === EventType.NewMail);
        if (events.length) resolve(events);
      });
      connection.OnSubscriptionError.push((_, args) => reject(args.Exception ?? new Error("subscription error")));
      connection.OnDisconnect.push((_, args) =>
        reject(new Error(`disconnected before the event: ${args?.Exception?.message ?? "clean close"}`)),
      );
    });
    // The connection is open once the server has answered the GetStreamingEvents request with its
    // headers. ews-javascript-api 0.15.3 exposes no event for that (its OnResponseHeader listens
    // for 'response' on the axios stream, which never fires), so watch Node's own HTTP client.
    const opened = new Promise((resolve) => {
      const onResponse = ({ request, response }) => {
        if (/\/ews\/exchange\.asmx/i.test(request.path) && response.statusCode === 200) {
          diagnostics.unsubscribe("http.client.response.finish", onResponse);
          resolve();
        }
      };
      diagnostics.subscribe("http.client.response.finish", onResponse);
    });
    connection.Open();
    await within(opened, "GetStreamingEvents response headers");
    ok("StreamingSubscriptionConnection.Open() gets a streaming answer");

    // Without stepping the clock: that would run the connection out of its lifetime.
    await deliver("Pushed", "pushed", { stepClock: false });
    const events = await within(newMail, "a NewMail notification on the streaming connection");
    assert.equal(events.length, 1, `NewMail events: ${events.length}`);
    ok("OnNotificationEvent fires with a NewMail event for the mail delivered after Open()");
    const mail = await EmailMessage.Bind(svc, events[0].ItemId, PropertySet.FirstClassProperties);
    assert.equal(mail.Subject, "Pushed");
    ok("the event's ItemId binds to the new mail");
    assert.ok(connection.IsOpen, "the connection stays open after a notification");
    connection.OnDisconnect.length = 0;
    connection.Close();
    ok("the connection stays open after the notification and Close() ends it");
  },
};

const name = process.argv[2];
if (!cases[name]) {
  console.error(`usage: node ewsjs_cases.mjs {${Object.keys(cases).join(",")}}`);
  process.exit(2);
}
try {
  await cases[name]();
  process.exit(0);  // the streaming connection's sockets would otherwise keep Node alive
} catch (e) {
  console.error(`FAIL: ews-javascript-api ${name}: ${e?.message ?? e}`);
  if (e?.stack) console.error(e.stack);
  if (e?.Message || e?.ErrorCode !== undefined) {
    console.error(`  EWS error: ErrorCode=${e.ErrorCode} Message=${e.Message}`);
  }
  dumpExchanges();
  process.exit(1);
}
