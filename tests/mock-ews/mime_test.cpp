// MIME parsing and composition (mime.cpp, mime_entity.cpp, mime_compose.cpp, text_codec.cpp):
// header fields, encoded-words, addresses, dates, attachments, bodies, hostile input.
#include "exo/mock_ews/mime.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "exo/common/random.hpp"
#include "exo/mock_ews/mailbox_store.hpp"

namespace exo::mock_ews {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

// "\n" -> "\r\n", so test messages can be written readably and still be RFC 5322.
std::string Crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80           ? 1
                      : (b >> 5) == 0x6  ? 2
                      : (b >> 4) == 0xE  ? 3
                      : (b >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

bool AllTextValid(const MessageFields& f) {
  auto ok = [](const MailAddress& a) { return IsValidUtf8(a.name) && IsValidUtf8(a.address); };
  bool valid = IsValidUtf8(f.subject) && IsValidUtf8(f.internet_message_id) &&
               IsValidUtf8(f.in_reply_to) && IsValidUtf8(f.content_type);
  if (f.from) valid = valid && ok(*f.from);
  if (f.sender) valid = valid && ok(*f.sender);
  for (const auto* list : {&f.to, &f.cc, &f.bcc, &f.reply_to}) {
    for (const auto& a : *list) valid = valid && ok(a);
  }
  for (const auto& r : f.references) valid = valid && IsValidUtf8(r);
  for (const auto& a : f.attachments) {
    valid =
        valid && IsValidUtf8(a.name) && IsValidUtf8(a.content_type) && IsValidUtf8(a.content_id);
  }
  return valid;
}

SystemTime Utc(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  using namespace std::chrono;
  return SystemTime(sys_days(year{y} / month{m} / day{d}) + hours(hh) + minutes(mm) + seconds(ss));
}

const char* kBasic = R"M(Return-Path: <carol@fabrikam.com>
From: "Sender, Carol" <carol@fabrikam.com>
Sender: Assistant <assistant@fabrikam.com>
To: Alice <alice@contoso.com>, bob@contoso.com
Cc: "Dave (IT)" <dave@contoso.com>
Bcc: eve@contoso.com
Reply-To: replies@fabrikam.com
Subject: Quarterly report
Date: Tue, 3 Nov 2026 14:15:16 +0100
Message-ID: <abc.123@fabrikam.com>
In-Reply-To: <parent@fabrikam.com>
References: <root@fabrikam.com>
 <parent@fabrikam.com>
Importance: High
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Numbers attached.
)M";

// Verifies every field Exchange extracts is read from a plain CRLF message.
TEST(MimeParseTest, ExtractsHeaderFields) {
  auto f = ParseMessage(Crlf(kBasic));
  ASSERT_TRUE(f.has_value()) << f.error().Describe();
  EXPECT_EQ(f->subject, "Quarterly report");
  ASSERT_TRUE(f->from.has_value());
  EXPECT_EQ(*f->from, (MailAddress{"Sender, Carol", "carol@fabrikam.com"}));
  ASSERT_TRUE(f->sender.has_value());
  EXPECT_EQ(*f->sender, (MailAddress{"Assistant", "assistant@fabrikam.com"}));
  ASSERT_EQ(f->to.size(), 2u);
  EXPECT_EQ(f->to[0], (MailAddress{"Alice", "alice@contoso.com"}));
  EXPECT_EQ(f->to[1], (MailAddress{"", "bob@contoso.com"}));
  ASSERT_EQ(f->cc.size(), 1u);
  EXPECT_EQ(f->cc[0], (MailAddress{"Dave (IT)", "dave@contoso.com"}));
  ASSERT_EQ(f->bcc.size(), 1u);
  EXPECT_EQ(f->bcc[0].address, "eve@contoso.com");
  ASSERT_EQ(f->reply_to.size(), 1u);
  EXPECT_EQ(f->reply_to[0].address, "replies@fabrikam.com");
  EXPECT_EQ(f->internet_message_id, "<abc.123@fabrikam.com>");
  ASSERT_TRUE(f->date.has_value());
  EXPECT_EQ(*f->date, Utc(2026, 11, 3, 13, 15, 16));
  EXPECT_EQ(f->in_reply_to, "<parent@fabrikam.com>");
  EXPECT_EQ(f->references,
            (std::vector<std::string>{"<root@fabrikam.com>", "<parent@fabrikam.com>"}));
  EXPECT_EQ(f->importance, Importance::kHigh);
  EXPECT_FALSE(f->has_attachments);
  EXPECT_EQ(f->content_type, "text/plain");
}

// Verifies bare-LF input gives exactly the fields its CRLF form gives.
TEST(MimeParseTest, LfOnlyInputParsesLikeCrlf) {
  auto lf = ParseMessage(kBasic);
  auto crlf = ParseMessage(Crlf(kBasic));
  ASSERT_TRUE(lf.has_value());
  ASSERT_TRUE(crlf.has_value());
  EXPECT_EQ(lf->subject, crlf->subject);
  EXPECT_EQ(lf->to, crlf->to);
  EXPECT_EQ(lf->references, crlf->references);
  EXPECT_EQ(lf->date, crlf->date);
  auto bodies = ExtractBodies(kBasic);
  ASSERT_TRUE(bodies.has_value());
  EXPECT_EQ(bodies->text, "Numbers attached.\n");
}

// Verifies folded headers are unfolded: the line break goes, the folding whitespace stays.
TEST(MimeParseTest, UnfoldsFoldedHeaders) {
  auto f =
      ParseMessage(Crlf("Subject: This is a long\n   subject line\n\tthat was folded\nTo: Alice "
                        "<alice@contoso.com>,\n"
                        "  Bob\n <bob@contoso.com>\nMessage-ID:\n <folded@x>\n\nbody\n"));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->subject, "This is a long   subject line that was folded");
  ASSERT_EQ(f->to.size(), 2u);
  EXPECT_EQ(f->to[1], (MailAddress{"Bob", "bob@contoso.com"}));
  EXPECT_EQ(f->internet_message_id, "<folded@x>");
}

// Verifies RFC 2047 subjects: UTF-8 B, ISO-8859-1 Q (with '_' as space), lower-case encodings,
// whitespace between adjacent words dropped but kept next to plain text, a character split across
// two words, and a malformed word left as it is.
TEST(MimeParseTest, DecodesEncodedWordSubjects) {
  EXPECT_EQ(DecodeHeaderText("=?UTF-8?B?w6lsw6h2ZQ==?="), "\xC3\xA9l\xC3\xA8ve");
  EXPECT_EQ(DecodeHeaderText("=?ISO-8859-1?Q?Caf=E9_cr=E8me?="), "Caf\xC3\xA9 cr\xC3\xA8me");
  EXPECT_EQ(DecodeHeaderText("=?iso-8859-1?q?na=EFve?="), "na\xC3\xAFve");
  EXPECT_EQ(DecodeHeaderText("=?UTF-8?Q?a?= =?UTF-8?Q?b?="), "ab");
  EXPECT_EQ(DecodeHeaderText("=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?="), "ab");
  EXPECT_EQ(DecodeHeaderText("Re: =?UTF-8?Q?caf=C3=A9?= time"), "Re: caf\xC3\xA9 time");
  // U+00E9 is C3 A9: split between two words, it only decodes when they are joined.
  EXPECT_EQ(DecodeHeaderText("=?UTF-8?B?w6==?= =?UTF-8?B?qQ==?="), "\xC3\xA9");
  EXPECT_EQ(DecodeHeaderText("=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?="), "\xC3\xA9");
  EXPECT_EQ(DecodeHeaderText("=?UTF-8*en?Q?hi?="), "hi");
  EXPECT_EQ(DecodeHeaderText("=?foo?X?bar?="), "=?foo?X?bar?=");
  EXPECT_EQ(DecodeHeaderText("=?UTF-8?Q?unterminated"), "=?UTF-8?Q?unterminated");
  EXPECT_EQ(DecodeHeaderText("=?windows-1252?Q?=80uro?="),
            "\xE2\x82\xAC"
            "uro");

  auto f =
      ParseMessage(Crlf("Subject: =?UTF-8?B?w6lsw6h2ZQ==?=\n =?UTF-8?Q?_r=C3=A9sum=C3=A9?=\n\nx"));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->subject, "\xC3\xA9l\xC3\xA8ve r\xC3\xA9sum\xC3\xA9");
}

// Verifies a charset only iconv knows is converted, and raw 8-bit Latin-1 becomes UTF-8.
TEST(MimeParseTest, ConvertsOtherCharsetsAndRawEightBit) {
  EXPECT_EQ(DecodeHeaderText("=?KOI8-R?B?8NLJ18XU?="),
            "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
  EXPECT_EQ(DecodeHeaderText("Caf\xE9"), "Caf\xC3\xA9");
  EXPECT_EQ(DecodeHeaderText("already \xC3\xA9"), "already \xC3\xA9");
  EXPECT_EQ(DecodeHeaderText("=?x-no-such-charset?Q?plain?="), "plain");
  EXPECT_EQ(DecodeHeaderText("tab\there\x01"), "tab here");
}

// Verifies address lists: quoted names with commas and escapes, comments, groups, the old
// "addr (Name)" form, encoded-word names, source routes and empty members.
TEST(MimeParseTest, ParsesAddressLists) {
  auto list = ParseAddressList(
      "\"Doe, John \\\"JD\\\"\" <john@x.com>, (comment) jane@x.com (Jane Roe), "
      "Team: a@x.com, \"B\" <b@x.com>;, =?UTF-8?Q?J=C3=B6rg?= <joerg@x.de>, "
      "<@relay.example:route@x.com>, , 'Single' <s@x.com>");
  ASSERT_EQ(list.size(), 7u);
  EXPECT_EQ(list[0], (MailAddress{"Doe, John \"JD\"", "john@x.com"}));
  EXPECT_EQ(list[1], (MailAddress{"comment", "jane@x.com"}));
  EXPECT_EQ(list[2], (MailAddress{"", "a@x.com"}));
  EXPECT_EQ(list[3], (MailAddress{"B", "b@x.com"}));
  EXPECT_EQ(list[4], (MailAddress{"J\xC3\xB6rg", "joerg@x.de"}));
  EXPECT_EQ(list[5], (MailAddress{"", "route@x.com"}));
  EXPECT_EQ(list[6], (MailAddress{"Single", "s@x.com"}));
  EXPECT_TRUE(ParseAddressList("Undisclosed recipients:;").empty());
  EXPECT_TRUE(ParseAddressList("").empty());
}

// Verifies RFC 5322 dates: zones, obsolete zone names, no day name, two-digit years, comments,
// and rejection of impossible dates; the formatter writes Exchange's form in UTC.
TEST(MimeParseTest, ParsesAndFormatsDates) {
  EXPECT_EQ(ParseRfc5322Date("Mon, 2 Nov 2026 09:00:00 +0000"), Utc(2026, 11, 2, 9, 0, 0));
  EXPECT_EQ(ParseRfc5322Date("2 Nov 2026 09:00:00 -0530"), Utc(2026, 11, 2, 14, 30, 0));
  EXPECT_EQ(ParseRfc5322Date("Mon, 02 Nov 26 09:00 EST"), Utc(2026, 11, 2, 14, 0, 0));
  EXPECT_EQ(ParseRfc5322Date("Mon, 2 Nov 1998 09:00:00 GMT (Greenwich)"),
            Utc(1998, 11, 2, 9, 0, 0));
  EXPECT_EQ(ParseRfc5322Date("Fri, 13 Mar 98 23:59:60 +0000"), Utc(1998, 3, 13, 23, 59, 59));
  EXPECT_FALSE(ParseRfc5322Date("Mon, 31 Feb 2026 09:00:00 +0000").has_value());
  EXPECT_FALSE(ParseRfc5322Date("yesterday").has_value());
  EXPECT_FALSE(ParseRfc5322Date("").has_value());
  EXPECT_FALSE(ParseRfc5322Date("Mon, 2 Nov 2026 25:00:00 +0000").has_value());
  EXPECT_FALSE(ParseRfc5322Date("Mon, 2 Nov 99999 09:00:00 +0000").has_value());
  EXPECT_EQ(FormatRfc5322Date(Utc(2026, 11, 2, 9, 5, 7)), "Mon, 2 Nov 2026 09:05:07 +0000");
  EXPECT_EQ(ParseRfc5322Date(FormatRfc5322Date(Utc(2030, 1, 31, 23, 0, 1))),
            Utc(2030, 1, 31, 23, 0, 1));
}

const char* kWithAttachment = R"M(From: a@x.com
Subject: files
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

preamble text
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 =
ok
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PHA+Q2Fmw6k8L3A+
--inner--
--outer
Content-Type: application/pdf; name="ignored.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer--
epilogue
)M";

// Verifies a Content-Disposition: attachment part in multipart/mixed sets HasAttachments and is
// described (name from the disposition, decoded size), and the alternative bodies decode.
TEST(MimeStructureTest, DetectsAttachmentAndDecodesBodies) {
  auto f = ParseMessage(Crlf(kWithAttachment));
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(f->has_attachments);
  EXPECT_EQ(f->content_type, "multipart/mixed");
  ASSERT_EQ(f->attachments.size(), 1u);
  EXPECT_EQ(f->attachments[0].name, "report.pdf");
  EXPECT_EQ(f->attachments[0].content_type, "application/pdf");
  EXPECT_EQ(f->attachments[0].size, 9u);  // "%PDF-1.4\n"
  EXPECT_FALSE(f->attachments[0].is_inline);

  auto bodies = ExtractBodies(Crlf(kWithAttachment));
  ASSERT_TRUE(bodies.has_value());
  EXPECT_EQ(bodies->text, "Caf\xC3\xA9 ok");
  EXPECT_EQ(bodies->html, "<p>Caf\xC3\xA9</p>");
}

// Verifies inline images (multipart/related with Content-ID, or disposition inline with a file
// name) are listed but do not count as attachments, while a named part without a disposition does.
TEST(MimeStructureTest, InlinePartsDoNotCountAsAttachments) {
  const char* related = R"M(Content-Type: multipart/related; boundary=b

--b
Content-Type: text/html

<img src="cid:logo">
--b
Content-Type: image/png
Content-ID: <logo>
Content-Transfer-Encoding: base64

iVBORw0K
--b--
)M";
  auto f = ParseMessage(related);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->has_attachments);
  ASSERT_EQ(f->attachments.size(), 1u);
  EXPECT_TRUE(f->attachments[0].is_inline);
  EXPECT_EQ(f->attachments[0].content_id, "logo");
  EXPECT_EQ(f->attachments[0].size, 6u);

  const char* inline_named = R"M(Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

see photo
--b
Content-Type: image/jpeg
Content-Disposition: inline; filename=photo.jpg

xx
--b--
)M";
  auto g = ParseMessage(inline_named);
  ASSERT_TRUE(g.has_value());
  EXPECT_FALSE(g->has_attachments);
  ASSERT_EQ(g->attachments.size(), 1u);
  EXPECT_EQ(g->attachments[0].name, "photo.jpg");

  const char* named_only = R"M(Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

body
--b
Content-Type: text/csv; name="data.csv"

a,b
--b--
)M";
  auto h = ParseMessage(named_only);
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(h->has_attachments);
  ASSERT_EQ(h->attachments.size(), 1u);
  EXPECT_EQ(h->attachments[0].name, "data.csv");
}

// Verifies RFC 2231 file names (charset-extended and continued) and RFC 2047 names decode.
TEST(MimeStructureTest, DecodesExtendedAttachmentNames) {
  const char* msg = R"M(Content-Type: multipart/mixed; boundary=b

--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf

x
--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*0="long-"; filename*1="name.txt"

y
--b
Content-Type: application/octet-stream; name="=?UTF-8?Q?f=C3=BCr.txt?="

z
--b--
)M";
  auto f = ParseMessage(msg);
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->attachments.size(), 3u);
  EXPECT_EQ(f->attachments[0].name, "r\xC3\xA9sum\xC3\xA9.pdf");
  EXPECT_EQ(f->attachments[1].name, "long-name.txt");
  EXPECT_EQ(f->attachments[2].name, "f\xC3\xBCr.txt");
  EXPECT_TRUE(f->has_attachments);
}

// Verifies messages without headers, without a blank line, or with only some headers parse to
// empty fields rather than failing; an mbox "From " line is skipped.
TEST(MimeParseTest, ToleratesMissingHeaders) {
  auto body_only = ParseMessage("\r\njust a body\r\n");
  ASSERT_TRUE(body_only.has_value());
  EXPECT_EQ(body_only->subject, "");
  EXPECT_FALSE(body_only->from.has_value());
  EXPECT_FALSE(body_only->date.has_value());

  auto no_blank = ParseMessage("Subject: only headers");
  ASSERT_TRUE(no_blank.has_value());
  EXPECT_EQ(no_blank->subject, "only headers");

  auto not_headers = ParseMessage("this is not a header line\nSubject: no\n\n");
  ASSERT_TRUE(not_headers.has_value());
  EXPECT_EQ(not_headers->subject, "");

  auto mbox = ParseMessage("From carol@fabrikam.com Mon Nov  2 09:00:00 2026\nSubject: mbox\n\nx");
  ASSERT_TRUE(mbox.has_value());
  EXPECT_EQ(mbox->subject, "mbox");

  auto bad_date = ParseMessage("Date: someday\nImportance: weird\nX-Priority: 5 (Lowest)\n\nx");
  ASSERT_TRUE(bad_date.has_value());
  EXPECT_FALSE(bad_date->date.has_value());
  EXPECT_EQ(bad_date->importance, Importance::kLow);
}

// Verifies empty input is ErrorMimeContentInvalid and input over the limit is
// ErrorMessageSizeExceeded, while input exactly at the limit parses.
TEST(MimeParseTest, RejectsEmptyAndOversizedInput) {
  auto empty = ParseMessage(" \r\n ");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, codes::kMimeContentInvalid);
  EXPECT_EQ(empty.error().category, ErrorCategory::kProtocol);

  MimeLimits limits;
  limits.max_bytes = 64;
  const std::string at_limit = "Subject: x\r\n\r\n" + std::string(64 - 14, 'a');
  ASSERT_EQ(at_limit.size(), 64u);
  EXPECT_TRUE(ParseMessage(at_limit, limits).has_value());
  auto over = ParseMessage(at_limit + "a", limits);
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, codes::kMessageSizeExceeded);
  EXPECT_FALSE(ExtractBodies(at_limit + "a", limits).has_value());
}

// Verifies the default limit is Exchange Online's 35 MB and a message just over it is refused.
TEST(MimeParseTest, DefaultLimitIsThirtyFiveMegabytes) {
  EXPECT_EQ(kDefaultMaxMimeBytes, 35u * 1024u * 1024u);
  const std::string big = "Subject: big\r\n\r\n" + std::string(kDefaultMaxMimeBytes, 'x');
  auto f = ParseMessage(big);
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, codes::kMessageSizeExceeded);
}

// Verifies seeded random bytes and random mixes of MIME-ish fragments never crash the parser and
// always yield valid UTF-8 fields.
TEST(MimeParseTest, SurvivesGarbageInput) {
  SeededRandom random(99);
  const std::vector<std::string> fragments = {"Subject: ",
                                              "From: ",
                                              "To: ",
                                              "\r\n",
                                              "\n",
                                              " ",
                                              "\t",
                                              ":",
                                              "=?",
                                              "?=",
                                              "?B?",
                                              "?Q?",
                                              "utf-8",
                                              "<",
                                              ">",
                                              "\"",
                                              "(",
                                              ")",
                                              ",",
                                              ";",
                                              "--b",
                                              "--b--",
                                              "Content-Type: multipart/mixed; boundary=b",
                                              "Content-Disposition: attachment; filename*0*=",
                                              "%",
                                              "=",
                                              "\xFF",
                                              "\xC3",
                                              std::string(1, '\0'),
                                              "Date: ",
                                              "Mon, 2 Nov",
                                              "+9999",
                                              "References: <",
                                              "a@b",
                                              "@",
                                              "\r",
                                              "Content-Transfer-Encoding: base64"};
  for (int round = 0; round < 3000; ++round) {
    std::string input;
    const bool bytes = round % 3 == 0;
    const std::size_t n = 1 + random.Below(bytes ? 400 : 60);
    for (std::size_t k = 0; k < n; ++k) {
      if (bytes) {
        input.push_back(static_cast<char>(random.Below(256)));
      } else {
        input += fragments[random.Below(fragments.size())];
      }
    }
    auto f = ParseMessage(input);
    if (!f) {
      EXPECT_EQ(f.error().code, codes::kMimeContentInvalid) << "round " << round;
      continue;
    }
    EXPECT_TRUE(AllTextValid(*f)) << "round " << round;
    auto bodies = ExtractBodies(input);
    ASSERT_TRUE(bodies.has_value());
    if (bodies->text) {
      EXPECT_TRUE(IsValidUtf8(*bodies->text)) << "round " << round;
    }
  }
}

// Verifies hostile structure stays bounded: multiparts nested far past max_depth, thousands of
// parts, and a huge header full of almost-encoded-words all parse.
TEST(MimeParseTest, BoundsHostileStructure) {
  std::string nested;
  for (int d = 0; d < 300; ++d) {
    nested += "Content-Type: multipart/mixed; boundary=b" + std::to_string(d) + "\r\n\r\n--b" +
              std::to_string(d) + "\r\n";
  }
  nested += "Content-Type: application/zip\r\nContent-Disposition: attachment\r\n\r\nzz\r\n";
  auto deep = ParseMessage(nested);
  ASSERT_TRUE(deep.has_value());
  EXPECT_LE(deep->attachments.size(), 1u);

  std::string many = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int p = 0; p < 5000; ++p) many += "--b\r\nContent-Type: image/gif\r\n\r\nx\r\n";
  many += "--b--\r\n";
  auto wide = ParseMessage(many);
  ASSERT_TRUE(wide.has_value());
  EXPECT_EQ(wide->attachments.size(), MimeLimits{}.max_parts);

  std::string header = "Subject: ";
  for (int k = 0; k < 200000; ++k) header += "=?utf-8?B?QUFB";
  header += "\r\n\r\n";
  auto words = ParseMessage(header);
  ASSERT_TRUE(words.has_value());
  EXPECT_EQ(words->subject.size(), header.size() - 13);
}

// ---- composition ----

MessageDraft SampleDraft() {
  MessageDraft d;
  d.from = {"Alice Example", "alice@contoso.com"};
  d.to = {{"Bob", "bob@contoso.com"}, {"Doe, Jane", "jane@contoso.com"}, {"", "x@y.com"}};
  d.cc = {{"J\xC3\xB6rg M\xC3\xBCller", "joerg@contoso.de"}};
  d.bcc = {{"", "audit@contoso.com"}};
  d.subject = "R\xC3\xA9sum\xC3\xA9 for the position";
  d.body = "Hi Bob,\nplease find it attached.\n";
  d.in_reply_to = "<parent@contoso.com>";
  d.references = {"<root@contoso.com>", "<parent@contoso.com>"};
  d.importance = Importance::kHigh;
  return d;
}

// Verifies composed MIME parses back to the draft's fields (encoded-word names and subject,
// quoted names, Bcc, threading headers, importance, Date and Message-ID as given).
TEST(MimeComposeTest, RoundTripsDraftFields) {
  const MessageDraft d = SampleDraft();
  const SystemTime date = Utc(2026, 11, 2, 9, 0, 0);
  const std::string mime = BuildMime(d, date, "<id-1@contoso.com>");
  auto f = ParseMessage(mime);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->subject, d.subject);
  EXPECT_EQ(*f->from, d.from);
  EXPECT_EQ(f->to, d.to);
  EXPECT_EQ(f->cc, d.cc);
  EXPECT_EQ(f->bcc, d.bcc);
  EXPECT_EQ(f->internet_message_id, "<id-1@contoso.com>");
  EXPECT_EQ(f->date, date);
  EXPECT_EQ(f->in_reply_to, "<parent@contoso.com>");
  EXPECT_EQ(f->references, d.references);
  EXPECT_EQ(f->importance, Importance::kHigh);
  EXPECT_NE(mime.find("Date: Mon, 2 Nov 2026 09:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(mime.find("Content-Transfer-Encoding: 7bit"), std::string::npos);
  auto bodies = ExtractBodies(mime);
  ASSERT_TRUE(bodies.has_value());
  EXPECT_EQ(bodies->text, "Hi Bob,\r\nplease find it attached.\r\n");
  // Every line ends in CRLF and none is longer than 998 octets.
  for (std::size_t pos = 0; pos < mime.size();) {
    const std::size_t eol = mime.find("\r\n", pos);
    ASSERT_NE(eol, std::string::npos);
    EXPECT_LE(eol - pos, 998u);
    EXPECT_EQ(mime.substr(pos, eol - pos).find('\n'), std::string::npos);
    pos = eol + 2;
  }
}

// Verifies a non-ASCII HTML body goes out as base64 text/html and decodes back; a long subject
// folds and unfolds to itself.
TEST(MimeComposeTest, EncodesNonAsciiHtmlBodyAndFoldsLongSubject) {
  MessageDraft d;
  d.from = {"", "alice@contoso.com"};
  d.to = {{"", "bob@contoso.com"}};
  d.subject = std::string(30, 'a') + " " + std::string(30, 'b') + " " + std::string(30, 'c');
  d.body =
      "<p>Gr\xC3\xBC\xC3\x9F"
      "e</p>";
  d.body_type = BodyType::kHtml;
  const std::string mime = BuildMime(d, Utc(2026, 1, 1, 0, 0, 0), "<x@y>");
  EXPECT_NE(mime.find("Content-Type: text/html; charset=\"utf-8\""), std::string::npos);
  EXPECT_NE(mime.find("Content-Transfer-Encoding: base64"), std::string::npos);
  auto f = ParseMessage(mime);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->subject, d.subject);
  EXPECT_EQ(f->importance, Importance::kNormal);
  auto bodies = ExtractBodies(mime);
  ASSERT_TRUE(bodies.has_value());
  EXPECT_EQ(bodies->html, d.body);
  EXPECT_FALSE(bodies->text.has_value());
}

// Verifies CR/LF in draft fields cannot inject headers, and composition is deterministic.
TEST(MimeComposeTest, BlocksHeaderInjectionAndIsDeterministic) {
  MessageDraft d;
  d.from = {"Eve\r\nBcc: victim@x.com", "eve@x.com"};
  d.subject = "hello\r\nX-Injected: yes";
  d.to = {{"", "bob@contoso.com\r\nX-Evil: 1"}};
  const std::string mime = BuildMime(d, Utc(2026, 1, 1, 0, 0, 0), "<x@y>\r\nX-More: 1");
  EXPECT_EQ(mime.find("\r\nX-Injected"), std::string::npos);
  EXPECT_EQ(mime.find("\r\nBcc"), std::string::npos);
  EXPECT_EQ(mime.find("\r\nX-Evil"), std::string::npos);
  EXPECT_EQ(mime.find("\r\nX-More"), std::string::npos);
  auto f = ParseMessage(mime);
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(f->bcc.empty());
  EXPECT_EQ(f->subject, "hello  X-Injected: yes");
  EXPECT_EQ(BuildMime(d, Utc(2026, 1, 1, 0, 0, 0), "<x@y>"),
            BuildMime(d, Utc(2026, 1, 1, 0, 0, 0), "<x@y>"));
}

}  // namespace
}  // namespace exo::mock_ews
