// Reply and forward composition, body conversions and delivery to the store's mailboxes, as
// Exchange does them for EWS and Graph alike (see internal/mail_compose.hpp).
#include "internal/mail_compose.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <utility>

#include "exo/common/xml_text.hpp"

namespace exo::mock_ews {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Error ComposeError(std::string code, std::string message) {
  Error e;
  e.category = ErrorCategory::kProtocol;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

// The subject without one leading reply/forward prefix ("RE: ", "Fw: ", "AW: "): MAPI's
// normalized subject, a prefix being one to three non-space characters, a colon and a space.
std::string NormalizedSubject(const std::string& subject) {
  const auto colon = subject.find(": ");
  if (colon == std::string::npos || colon == 0 || colon > 3) return subject;
  for (std::size_t i = 0; i < colon; ++i) {
    if (std::isspace(static_cast<unsigned char>(subject[i])) ||
        std::isdigit(static_cast<unsigned char>(subject[i]))) {
      return subject;
    }
  }
  return subject.substr(colon + 2);
}

// "Monday, November 2, 2026 9:00:00 AM": .NET's en-US long date and long time, as Exchange writes
// the Sent line of a reply header (UTC here: the mock has no mailbox time zone).
std::string LongDateTime(SystemTime t) {
  static constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
  static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::weekday wd{days};
  const std::chrono::hh_mm_ss hms{std::chrono::floor<std::chrono::seconds>(t - days)};
  const long hour = hms.hours().count();
  char time[32];
  std::snprintf(time, sizeof time, "%ld:%02ld:%02ld %s", hour % 12 == 0 ? 12 : hour % 12,
                static_cast<long>(hms.minutes().count()), static_cast<long>(hms.seconds().count()),
                hour < 12 ? "AM" : "PM");
  return std::string(kDays[wd.c_encoding()]) + ", " +
         kMonths[static_cast<unsigned>(ymd.month()) - 1] + " " +
         std::to_string(static_cast<unsigned>(ymd.day())) + ", " +
         std::to_string(static_cast<int>(ymd.year())) + " " + time;
}

std::string DisplayName(const MailAddress& a) { return a.name.empty() ? a.address : a.name; }

std::string Names(const std::vector<MailAddress>& list) {
  std::string out;
  for (const auto& a : list) out += (out.empty() ? "" : "; ") + DisplayName(a);
  return out;
}

// The original's header block of a reply or forward, as Exchange's ForwardReplyUtilities writes
// it (From, Sent, To, Cc, Subject), in the body's format.
std::string QuoteHeader(const Item& original, BodyType type) {
  const MessageFields& f = original.fields;
  const std::string from =
      f.from
          ? (f.from->name.empty() ? f.from->address : f.from->name + " <" + f.from->address + ">")
          : std::string();
  const std::string sent = f.date ? LongDateTime(*f.date) : std::string();
  std::vector<std::pair<std::string, std::string>> lines;
  if (!from.empty()) lines.emplace_back("From:", from);
  if (!sent.empty()) lines.emplace_back("Sent:", sent);
  if (!f.to.empty()) lines.emplace_back("To:", Names(f.to));
  if (!f.cc.empty()) lines.emplace_back("Cc:", Names(f.cc));
  lines.emplace_back("Subject:", f.subject);
  std::string out;
  if (type == BodyType::kText) {
    out = "\n________________________________________\n";
    for (const auto& [label, value] : lines) out += label + " " + value + "\n";
    return out;
  }
  out =
      "<HR style=\"display:inline-block;width:98%\" tabindex=\"-1\"><DIV id=divRplyFwdMsg "
      "dir=\"ltr\"><FONT FACE=\"Calibri, sans-serif\" style=\"font-size:11pt\" color=\"#000000\">";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "<BR>";
    out += "<B>" + lines[i].first + "</B> " + XmlEscape(lines[i].second);
  }
  return out + "</FONT><DIV>&nbsp;</DIV></DIV>";
}

}  // namespace

std::string RewriteHeaders(std::string_view mime, const std::vector<std::string>& drop,
                           const std::string& prepend) {
  std::string out = prepend;
  std::size_t pos = 0;
  bool dropping = false;
  while (pos < mime.size()) {
    auto eol = mime.find('\n', pos);
    const std::size_t next = eol == std::string_view::npos ? mime.size() : eol + 1;
    std::string_view line = mime.substr(pos, next - pos);
    std::string_view bare = line;
    while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r')) bare.remove_suffix(1);
    if (bare.empty()) {  // the end of the header section: the rest is kept verbatim
      out.append(mime.substr(pos));
      return out;
    }
    if (bare.front() == ' ' || bare.front() == '\t') {
      if (!dropping) out.append(line);
    } else {
      const auto colon = bare.find(':');
      const std::string name =
          colon == std::string_view::npos ? std::string() : Lower(bare.substr(0, colon));
      dropping = std::find(drop.begin(), drop.end(), name) != drop.end();
      if (!dropping) out.append(line);
    }
    pos = next;
  }
  return out;
}

bool SameAddress(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

bool IsOwnAddress(const Mailbox& m, std::string_view address) {
  if (SameAddress(m.primary_smtp_address, address)) return true;
  for (const auto& proxy : m.proxy_addresses) {
    const auto colon = proxy.find(':');
    const std::string_view smtp = colon == std::string::npos
                                      ? std::string_view(proxy)
                                      : std::string_view(proxy).substr(colon + 1);
    if (SameAddress(smtp, address)) return true;
  }
  return false;
}

void AppendUnique(std::vector<MailAddress>& list, const std::vector<MailAddress>& more,
                  const std::function<bool(const MailAddress&)>& skip) {
  for (const auto& a : more) {
    if (skip && skip(a)) continue;
    const bool seen = std::any_of(list.begin(), list.end(), [&](const MailAddress& b) {
      return SameAddress(a.address, b.address);
    });
    if (!seen) list.push_back(a);
  }
}

std::string HtmlToText(std::string_view html) {
  std::string out;
  for (std::size_t i = 0; i < html.size(); ++i) {
    if (html[i] == '<') {
      const auto end = html.find('>', i);
      if (end == std::string_view::npos) break;
      const std::string tag = Lower(html.substr(i + 1, std::min<std::size_t>(end - i - 1, 4)));
      if (tag.starts_with("br") || tag.starts_with("/p") || tag.starts_with("/div")) out += "\n";
      i = end;
    } else if (html[i] == '&') {
      static constexpr std::pair<const char*, char> kEntities[] = {
          {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&nbsp;", ' '}};
      bool matched = false;
      for (const auto& [name, c] : kEntities) {
        if (html.substr(i).starts_with(name)) {
          out += c;
          i += std::string_view(name).size() - 1;
          matched = true;
          break;
        }
      }
      if (!matched) out += '&';
    } else {
      out += html[i];
    }
  }
  return out;
}

std::string TextToHtml(std::string_view text) {
  std::string out = "<div>";
  for (char c : XmlEscape(text)) {
    if (c == '\n') {
      out += "<br>";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out + "</div>";
}

Result<MessageDraft> ComposeResponseDraft(const Item& original, const Mailbox& self,
                                          const ResponseInput& input) {
  const MessageFields& of = original.fields;
  auto bodies = ExtractBodies(*original.mime);
  if (!bodies) return std::unexpected(bodies.error());

  MessageDraft draft;
  draft.from = {self.display_name, self.primary_smtp_address};
  draft.body_type = input.body_type.value_or(bodies->html ? BodyType::kHtml : BodyType::kText);
  std::string quoted;
  if (draft.body_type == BodyType::kHtml) {
    quoted = bodies->html ? *bodies->html : TextToHtml(bodies->text.value_or(""));
  } else {
    quoted = bodies->text ? *bodies->text : HtmlToText(bodies->html.value_or(""));
  }
  draft.body = input.new_body + QuoteHeader(original, draft.body_type) +
               (draft.body_type == BodyType::kText ? "\n" : "") + quoted;

  if (input.subject) {
    draft.subject = *input.subject;
  } else {
    draft.subject = std::string(input.kind == ResponseKind::kForward ? "FW: " : "RE: ") +
                    NormalizedSubject(of.subject);
  }
  auto is_self = [&](const MailAddress& a) { return IsOwnAddress(self, a.address); };
  if (input.kind != ResponseKind::kForward) {
    if (!of.reply_to.empty()) {
      AppendUnique(draft.to, of.reply_to);
    } else if (of.from) {
      AppendUnique(draft.to, {*of.from});
    }
    if (input.kind == ResponseKind::kReplyAll) {
      AppendUnique(draft.to, of.to, is_self);
      AppendUnique(draft.cc, of.cc, [&](const MailAddress& a) {
        return is_self(a) || std::any_of(draft.to.begin(), draft.to.end(), [&](const auto& t) {
                 return SameAddress(t.address, a.address);
               });
      });
    }
    if (!of.internet_message_id.empty()) {
      draft.in_reply_to = of.internet_message_id;
      draft.references = of.references;
      draft.references.push_back(of.internet_message_id);
    }
  }
  AppendUnique(draft.to, input.to);
  AppendUnique(draft.cc, input.cc);
  AppendUnique(draft.bcc, input.bcc);
  if (input.importance) draft.importance = *input.importance;
  return draft;
}

Result<void> SubmitToStore(MailboxStore& store, const Mailbox& self, const std::string& mime,
                           const Error& no_recipients, std::vector<std::string>& outbound) {
  auto fields = ParseMessage(mime);
  if (!fields) return std::unexpected(fields.error());
  if (fields->from && !IsOwnAddress(self, fields->from->address)) {
    return std::unexpected(
        ComposeError("ErrorSendAsDenied",
                     "The user account which was used to submit this request does not have the "
                     "right to send mail on behalf of the specified sending account."));
  }
  std::vector<MailAddress> all = fields->to;
  all.insert(all.end(), fields->cc.begin(), fields->cc.end());
  all.insert(all.end(), fields->bcc.begin(), fields->bcc.end());
  if (all.empty()) return std::unexpected(no_recipients);
  for (const auto& a : all) {
    const auto at = a.address.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == a.address.size()) {
      return std::unexpected(ComposeError("ErrorInvalidRecipients",
                                          "At least one recipient isn't valid., Recipient \"" +
                                              a.address +
                                              "\" isn't resolved. All recipients must be resolved "
                                              "before a message can be submitted."));
    }
  }
  // Recipients receive the message without the Bcc field, which only the sender's copy keeps.
  const std::string delivered = RewriteHeaders(mime, {"bcc"});
  std::vector<std::string> reached;  // mailbox GUIDs already delivered to
  for (const auto& a : all) {
    auto target = store.ResolveMailbox(a.address, MailboxKey::kSmtpAddress);
    if (!target) {
      const bool noted = std::any_of(outbound.begin(), outbound.end(), [&](const std::string& o) {
        return SameAddress(o, a.address);
      });
      if (!noted) outbound.push_back(a.address);
      continue;
    }
    if (std::find(reached.begin(), reached.end(), target->object_guid) != reached.end()) continue;
    reached.push_back(target->object_guid);
    auto item = store.DeliverToInbox(target->primary_smtp_address, delivered);
    if (!item) return std::unexpected(item.error());
  }
  return {};
}

}  // namespace exo::mock_ews
