// Composing and "sending" mail as a mailbox of the store, shared by the EWS facade (CreateItem,
// SendItem) and the Graph facade (sendMail, reply): the reply or forward Exchange builds from an
// original, the body conversions between text and HTML, and delivery to the store's mailboxes.
// Mail to addresses no mailbox of the store owns leaves nowhere (the mock has no internet): the
// caller gets such addresses back and notes them in its journal entry ("outbound").
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exo/common/result.hpp"
#include "exo/mock_ews/mailbox_store.hpp"
#include "exo/mock_ews/mime.hpp"

namespace exo::mock_ews {

enum class ResponseKind { kReply, kReplyAll, kForward };

// Case-insensitive address comparison.
bool SameAddress(std::string_view a, std::string_view b);
// Whether `address` is one of the mailbox's SMTP addresses (primary or proxy).
bool IsOwnAddress(const Mailbox& m, std::string_view address);
// Appends the addresses of `more` that `list` does not hold yet and `skip` (if any) does not name.
void AppendUnique(std::vector<MailAddress>& list, const std::vector<MailAddress>& more,
                  const std::function<bool(const MailAddress&)>& skip = {});

// Plain text of an HTML body: tags dropped, block ends as line breaks, the common entities read.
std::string HtmlToText(std::string_view html);
// An HTML body for a text one: escaped, line breaks as <br>, in one <div>.
std::string TextToHtml(std::string_view text);

// Removes the named header fields (lower-case names; with their folded lines) from the header
// section of `mime` and puts `prepend` (complete "Name: value\r\n" lines) at its top.
std::string RewriteHeaders(std::string_view mime, const std::vector<std::string>& drop,
                           const std::string& prepend = {});

// What a reply or forward adds to the original.
struct ResponseInput {
  ResponseKind kind = ResponseKind::kReply;
  std::string new_body;                // above the quoted original ("comment" in Graph)
  std::optional<BodyType> body_type;   // empty: the original's (HTML when it has an HTML part)
  std::optional<std::string> subject;  // empty: "RE: " / "FW: " and the normalized subject
  std::vector<MailAddress> to, cc, bcc;
  std::optional<Importance> importance;
};

// The draft Exchange builds for a reply, reply-all or forward of `original` by `self`: the new
// body above the original's header block and body, RE:/FW: subject, the original's Reply-To (or
// From) as recipient, In-Reply-To and References. Errors: those of ExtractBodies.
Result<MessageDraft> ComposeResponseDraft(const Item& original, const Mailbox& self,
                                          const ResponseInput& input);

// "Sends" `mime` as `self`: delivers it (without Bcc) to every mailbox of `store` a To, Cc or Bcc
// address names, once per mailbox; other addresses are appended to `outbound`. Errors:
// ErrorSendAsDenied (From names another mailbox), `no_recipients` when there is none,
// ErrorInvalidRecipients for an address that is not local@domain, the store's delivery errors.
Result<void> SubmitToStore(MailboxStore& store, const Mailbox& self, const std::string& mime,
                           const Error& no_recipients, std::vector<std::string>& outbound);

}  // namespace exo::mock_ews
