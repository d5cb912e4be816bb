#include "actions/email/email_notifier.h"

#include <curl/curl.h>

#include <algorithm>

#include "actions/http_client.h"
#include "actions/notification_text.h"
#include "actions/payload.h"

namespace budgeteer {

namespace {

constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string Two(int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); }

// RFC 5322 date: "Fri, 27 Nov 2026 15:00:57 +0000".
std::string MailDate(Timestamp t) {
  const int64_t days = DayOf(t);
  const CivilDate d = CivilFromDays(days);
  const int64_t secs = t.unix_seconds() - days * 86400;
  return std::string(kDays[WeekdayFromDays(days)]) + ", " + std::to_string(d.day) + " " +
         kMonths[d.month - 1] + " " + std::to_string(d.year) + " " + Two(secs / 3600) + ":" +
         Two(secs / 60 % 60) + ":" + Two(secs % 60) + " +0000";
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16) |
                       (static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8) |
                       static_cast<uint32_t>(static_cast<unsigned char>(in[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A header value: one line; RFC 2047 encoded when it is not plain ASCII.
std::string HeaderText(std::string_view text) {
  std::string line = OneLine(text);
  const bool ascii = std::all_of(line.begin(), line.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return line;
  // RFC 2047: encoded words of at most 75 characters, folded onto continuation lines; a
  // UTF-8 sequence is never split between two words.
  std::string out;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t end = std::min(pos + 39, line.size());
    while (end < line.size() && end > pos + 1 &&
           (static_cast<unsigned char>(line[end]) & 0xc0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(std::string_view(line).substr(pos, end - pos)) + "?=";
    pos = end;
  }
  return out;
}

bool ValidAddress(std::string_view address) {
  if (address.empty() || address.find('@') == std::string_view::npos) return false;
  return std::none_of(address.begin(), address.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x21 || u == 0x7f || c == '<' || c == '>' || c == ',';
  });
}

struct UploadState {
  const std::string* data;
  size_t offset;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* state = static_cast<UploadState*>(user);
  const size_t n = std::min(size * count, state->data->size() - state->offset);
  state->data->copy(buffer, n, state->offset);
  state->offset += n;
  return n;
}

}  // namespace

Result<ComposedEmail> ComposeEmail(const EmailConfig& config, const ActionMessage& message) {
  const auto parsed = PayloadFields::Parse(message.payload);
  const PayloadFields fields = parsed.ok() ? *parsed : PayloadFields();

  ComposedEmail out;
  auto add = [&out](std::string_view address) -> Status {
    if (!ValidAddress(address)) {
      return InvalidArgument("invalid e-mail address '" + OneLine(address) + "'");
    }
    if (std::find(out.recipients.begin(), out.recipients.end(), address) == out.recipients.end()) {
      out.recipients.emplace_back(address);
    }
    return Status::Ok();
  };
  for (const auto& to : config.to) RETURN_IF_ERROR(add(to));
  if (config.send_to_owner && !fields.Get("owner_email").empty()) {
    RETURN_IF_ERROR(add(fields.Get("owner_email")));
  }
  if (!ValidAddress(config.from)) {
    return InvalidArgument("invalid From address '" + OneLine(config.from) + "'");
  }

  const NotificationText text = ComposeNotificationText(message);

  std::string to_header;
  for (const auto& r : out.recipients) to_header += (to_header.empty() ? "" : ", ") + r;
  const size_t at = config.from.rfind('@');
  const std::string domain = config.from.substr(at + 1);

  std::string& d = out.data;
  d += "Date: " + MailDate(message.now) + "\r\n";
  d += "From: " + config.from + "\r\n";
  d += "To: " + to_header + "\r\n";
  d += "Subject: " + HeaderText(text.subject) + "\r\n";
  d +=
      "Message-ID: <budgeteer-action-" + std::to_string(message.action_id) + "@" + domain + ">\r\n";
  d += "MIME-Version: 1.0\r\n";
  d += "Content-Type: text/plain; charset=utf-8\r\n";
  d += "Content-Transfer-Encoding: 8bit\r\n";
  d += "Auto-Submitted: auto-generated\r\n";
  d += "X-Budgeteer-Action-Id: " + std::to_string(message.action_id) + "\r\n";
  d += "\r\n";

  // The shared text, with SMTP's CRLF line endings.
  for (const char c : text.body) {
    if (c == '\n') {
      d += "\r\n";
    } else {
      d += c;
    }
  }
  return out;
}

Result<std::unique_ptr<EmailNotifier>> EmailNotifier::Create(EmailConfig config) {
  if (config.smtp_url.rfind("smtp://", 0) != 0 && config.smtp_url.rfind("smtps://", 0) != 0) {
    return InvalidArgument("email: smtp_url " + RedactUrl(config.smtp_url) +
                           " must start with smtp:// or smtps://");
  }
  if (!ValidAddress(config.from))
    return InvalidArgument("email: a valid 'from' address is required");
  if (config.to.empty() && !config.send_to_owner) {
    return InvalidArgument("email: no recipients ('to' is empty and send_to_owner is off)");
  }
  for (const auto& to : config.to) {
    if (!ValidAddress(to)) return InvalidArgument("email: invalid address '" + OneLine(to) + "'");
  }
  if (config.connect_timeout_ms <= 0 || config.timeout_ms <= 0) {
    return InvalidArgument("email: timeouts must be positive");
  }
  EnsureCurlInitialized();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Internal("curl_easy_init failed");
  return std::unique_ptr<EmailNotifier>(new EmailNotifier(std::move(config), curl));
}

EmailNotifier::EmailNotifier(EmailConfig config, void* curl)
    : config_(std::move(config)), redacted_url_(RedactUrl(config_.smtp_url)), curl_(curl) {}

EmailNotifier::~EmailNotifier() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

std::string EmailNotifier::name() const {
  return config_.name.empty() ? "email" : "email:" + config_.name;
}

Status EmailNotifier::Deliver(const ActionMessage& message) {
  ASSIGN_OR_RETURN(const ComposedEmail email, ComposeEmail(config_, message));
  if (email.recipients.empty()) return Status::Ok();  // nobody to tell: nothing to retry

  CURL* curl = static_cast<CURL*>(curl_);
  curl_slist* rcpt = nullptr;
  for (const auto& r : email.recipients) {
    curl_slist* next = curl_slist_append(rcpt, ("<" + r + ">").c_str());
    if (next == nullptr) {
      curl_slist_free_all(rcpt);
      return Internal("curl_slist_append failed");
    }
    rcpt = next;
  }
  const std::string mail_from = "<" + config_.from + ">";
  UploadState upload{&email.data, 0};
  curl_easy_setopt(curl, CURLOPT_URL, config_.smtp_url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_ms));
  curl_easy_setopt(
      curl, CURLOPT_USE_SSL,
      config_.starttls ? static_cast<long>(CURLUSESSL_ALL) : static_cast<long>(CURLUSESSL_NONE));
  if (!config_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, config_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, config_.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(email.data.size()));
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  const CURLcode code = curl_easy_perform(curl);
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, nullptr);
  curl_easy_setopt(curl, CURLOPT_READDATA, nullptr);
  curl_slist_free_all(rcpt);
  if (code == CURLE_OK) return Status::Ok();

  // curl_easy_strerror is generic: it names neither the URL nor the credentials.
  std::string m = "SMTP " + redacted_url_ + ": " + curl_easy_strerror(code);
  if (reply > 0) m += " (reply " + std::to_string(reply) + ")";
  switch (code) {
    case CURLE_LOGIN_DENIED:
      return {Code::kUnauthenticated, m};
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_USE_SSL_FAILED:
      return FailedPrecondition(m);
    default:
      break;
  }
  if (reply >= 500 && reply < 600) return FailedPrecondition(m);
  return Unavailable(m);
}

}  // namespace budgeteer
