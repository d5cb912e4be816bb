#include "sources/s3_poller.h"

#include <algorithm>
#include <charconv>

#include "aws/endpoint.h"
#include "aws/http.h"
#include "aws/xml.h"

namespace budgeteer::sources {

namespace {

constexpr std::string_view kMagic = "s3ckpt 1";
constexpr std::string_view kMagicWithDamaged = "s3ckpt 2";  // kMagic's lines, then damaged ones
constexpr size_t kMaxObjectsPerBatch = 64;

// Keys may hold any character; the checkpoint's separators (tab, newline) and '%' are escaped.
std::string Escape(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    switch (c) {
      case '%':
        out += "%25";
        break;
      case '\t':
        out += "%09";
        break;
      case '\n':
        out += "%0A";
        break;
      case '\r':
        out += "%0D";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Result<std::string> Unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const std::string_view code = text.substr(i + 1, 2);
    if (code == "25") {
      out += '%';
    } else if (code == "09") {
      out += '\t';
    } else if (code == "0A") {
      out += '\n';
    } else if (code == "0D") {
      out += '\r';
    } else {
      return Status(Code::kDataLoss, "s3 checkpoint: bad escape in a key");
    }
    i += 2;
  }
  return out;
}

template <typename T>
bool ParseInt(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// An ETag as S3 sends it ("\"d41d8cd9...\""), without its quotes.
std::string Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

// An HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110's IMF-fixdate) in Unix
// milliseconds, or nullopt.
std::optional<int64_t> ParseHttpDate(std::string_view text) {
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  // "Sun, " "06 Nov 1994 " "08:49:37 GMT"
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  const size_t month = kMonths.find(text.substr(8, 3));
  if (month == std::string_view::npos || month % 3 != 0) return std::nullopt;
  const std::string month_digits = (month / 3 + 1 < 10 ? "0" : "") + std::to_string(month / 3 + 1);
  const std::string rfc3339 = std::string(text.substr(12, 4)) + "-" + month_digits + "-" +
                              std::string(text.substr(5, 2)) + "T" +
                              std::string(text.substr(17, 8)) + "Z";
  auto at = Timestamp::Parse(rfc3339);
  if (!at.ok()) return std::nullopt;
  return at->unix_millis();
}

// Collects what the parser reads from one object.
class CollectSink final : public RecordSink {
 public:
  CollectSink(std::vector<UsageRecord>& records, PollCounts& counts)
      : records_(records), counts_(counts) {}
  void OnRecord(UsageRecord&& record, const Location& where) override {
    (void)where;
    records_.push_back(std::move(record));
  }
  void OnReject(const Location& where, std::string reason) override {
    counts_.Reject(where.ToString() + ": " + reason);
  }

 private:
  std::vector<UsageRecord>& records_;
  PollCounts& counts_;
};

}  // namespace

bool S3DamagedObject::Same(const S3Object& object) const {
  if (!etag.empty() && !object.etag.empty()) return etag == object.etag;
  return last_modified_ms == object.last_modified_ms && size == object.size;
}

std::string S3Checkpoint::Encode() const {
  std::string out(damaged.empty() ? kMagic : kMagicWithDamaged);
  out += '\n';
  out += Escape(floor);
  out += '\n';
  std::string previous;
  for (const auto& [key, modified] : done) {
    std::string escaped = Escape(key);
    const auto mismatch =
        std::mismatch(previous.begin(), previous.end(), escaped.begin(), escaped.end());
    const auto shared = static_cast<size_t>(mismatch.first - previous.begin());
    out += std::to_string(shared);
    out += '\t';
    out.append(escaped, shared, std::string::npos);
    out += '\t';
    out += std::to_string(modified);
    out += '\n';
    previous = std::move(escaped);
  }
  // "!\t<key>\t<etag>\t<last modified>\t<size>\t<found>", after the done keys.
  for (const auto& [key, object] : damaged) {
    out += "!\t";
    out += Escape(key);
    out += '\t';
    out += Escape(object.etag);
    for (const int64_t n : {object.last_modified_ms, object.size, object.found_ms}) {
      out += '\t';
      out += std::to_string(n);
    }
    out += '\n';
  }
  return out;
}

Result<S3Checkpoint> S3Checkpoint::Decode(std::string_view text) {
  constexpr std::string_view kDamaged =
      "s3 checkpoint in the ledger is damaged; delete its meta row to read the prefix again "
      "from the start (de-duplication keeps the totals right)";
  const bool with_damaged =
      text.substr(0, kMagicWithDamaged.size() + 1) == std::string(kMagicWithDamaged) + "\n";
  ASSIGN_OR_RETURN(const std::vector<std::string_view> lines,
                   CheckpointLines(text, with_damaged ? kMagicWithDamaged : kMagic, kDamaged));
  if (lines.empty()) return Status(Code::kDataLoss, std::string(kDamaged));
  S3Checkpoint out;
  ASSIGN_OR_RETURN(out.floor, Unescape(lines[0]));
  std::string previous;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (with_damaged && line.substr(0, 2) == "!\t") {
      std::vector<std::string_view> fields;
      for (size_t at = 2;;) {
        const size_t tab = line.find('\t', at);
        fields.push_back(line.substr(at, tab == std::string_view::npos ? tab : tab - at));
        if (tab == std::string_view::npos) break;
        at = tab + 1;
      }
      S3DamagedObject object;
      if (fields.size() != 5 || !ParseInt(fields[2], object.last_modified_ms) ||
          !ParseInt(fields[3], object.size) || !ParseInt(fields[4], object.found_ms)) {
        return Status(Code::kDataLoss, std::string(kDamaged));
      }
      ASSIGN_OR_RETURN(std::string key, Unescape(fields[0]));
      ASSIGN_OR_RETURN(object.etag, Unescape(fields[1]));
      out.damaged.emplace(std::move(key), std::move(object));
      continue;
    }
    const size_t t1 = line.find('\t');
    const size_t t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    size_t shared = 0;
    int64_t modified = 0;
    if (t2 == std::string_view::npos || !ParseInt(line.substr(0, t1), shared) ||
        shared > previous.size() || !ParseInt(line.substr(t2 + 1), modified)) {
      return Status(Code::kDataLoss, std::string(kDamaged));
    }
    std::string escaped = previous.substr(0, shared);
    escaped.append(line.substr(t1 + 1, t2 - t1 - 1));
    ASSIGN_OR_RETURN(std::string key, Unescape(escaped));
    out.done.emplace(std::move(key), modified);
    previous = std::move(escaped);
  }
  return out;
}

bool S3Checkpoint::Compact(const std::vector<S3Object>& listed, int64_t cutoff_ms) {
  bool moved = false;
  for (const S3Object& object : listed) {
    if (object.key <= floor) continue;
    auto it = done.find(object.key);
    if (it == done.end() || object.last_modified_ms >= cutoff_ms) break;
    floor = object.key;
    done.erase(it);
    moved = true;
  }
  // Keys at or below the floor (listed before it moved) are covered by it.
  done.erase(done.begin(), done.upper_bound(floor));
  return moved;
}

std::vector<std::string> S3Checkpoint::ForgetDamaged(size_t max_objects, int64_t found_before_ms) {
  std::vector<std::string> forgotten;
  for (auto it = damaged.begin(); it != damaged.end();) {
    if (it->second.found_ms < found_before_ms) {
      forgotten.push_back(it->first);
      it = damaged.erase(it);
    } else {
      ++it;
    }
  }
  while (damaged.size() > max_objects) {
    auto oldest = damaged.begin();
    for (auto it = damaged.begin(); it != damaged.end(); ++it) {
      if (it->second.found_ms < oldest->second.found_ms) oldest = it;
    }
    forgotten.push_back(oldest->first);
    damaged.erase(oldest);
  }
  std::sort(forgotten.begin(), forgotten.end());
  return forgotten;
}

Result<std::vector<S3Object>> ParseListObjectsV2(std::string_view xml, std::string& next_token) {
  if (aws::XmlElements(xml, "ListBucketResult").empty()) {
    return Status(Code::kUnavailable, "s3 ListObjectsV2: the reply is not a ListBucketResult");
  }
  std::vector<S3Object> out;
  for (std::string_view contents : aws::XmlElements(xml, "Contents")) {
    S3Object object;
    object.key = aws::XmlText(contents, "Key").value_or("");
    const std::string modified = aws::XmlText(contents, "LastModified").value_or("");
    auto at = Timestamp::Parse(modified);
    if (object.key.empty() || !at.ok()) {
      return Status(
          Code::kUnavailable,
          "s3 ListObjectsV2: an object without a Key or a LastModified ('" + modified + "')");
    }
    object.last_modified_ms = at->unix_millis();
    (void)ParseInt(aws::XmlText(contents, "Size").value_or("0"), object.size);
    object.etag = Unquote(aws::XmlText(contents, "ETag").value_or(""));
    out.push_back(std::move(object));
  }
  next_token.clear();
  if (aws::XmlText(xml, "IsTruncated").value_or("false") == "true") {
    next_token = aws::XmlText(xml, "NextContinuationToken").value_or("");
    if (next_token.empty()) {
      return Status(Code::kUnavailable,
                    "s3 ListObjectsV2: truncated listing without NextContinuationToken");
    }
  }
  return out;
}

Result<std::unique_ptr<S3Poller>> S3Poller::Create(const aws::Environment& env, const Clock& clock,
                                                   S3PollerOptions options, PollTarget& target) {
  ASSIGN_OR_RETURN(std::unique_ptr<aws::HttpTransport> transport,
                   aws::MakeCurlTransport(size_t{256} << 20));
  return Create(env, clock, std::move(options), target, std::move(transport));
}

Result<std::unique_ptr<S3Poller>> S3Poller::Create(const aws::Environment& env, const Clock& clock,
                                                   S3PollerOptions options, PollTarget& target,
                                                   std::unique_ptr<aws::HttpTransport> transport) {
  if (options.bucket.empty() || options.prefix.empty()) {
    return InvalidArgument("ingest.s3 needs a bucket and a prefix");
  }
  const std::optional<std::string> region = aws::ResolveRegion(env);
  if (!region) {
    return InvalidArgument(
        "ingest.s3 needs an AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in the "
        "AWS profile)");
  }
  ASSIGN_OR_RETURN(aws::Endpoint endpoint, aws::ResolveEndpoint(aws::kS3, *region, env));
  std::unique_ptr<S3Poller> poller(new S3Poller());
  poller->options_ = std::move(options);
  poller->options_.max_keys = std::clamp<int64_t>(poller->options_.max_keys, 1, 1000);
  poller->clock_ = &clock;
  poller->target_ = &target;
  poller->transport_ = std::move(transport);
  poller->credentials_ = aws::DefaultCredentialsChain(env, *poller->transport_, clock);
  poller->client_ =
      std::make_unique<aws::AwsClient>(aws::kS3, std::move(endpoint), poller->credentials_.get(),
                                       *poller->transport_, clock, aws::HttpTimeouts{});
  poller->parser_ = std::make_unique<InputParser>(poller->options_.limits);
  return poller;
}

Result<std::vector<S3Object>> S3Poller::List(const std::string& start_after) {
  std::vector<S3Object> out;
  std::string token;
  const std::string path = "/" + aws::UriEncode(options_.bucket, /*keep_slash=*/false);
  for (int page = 0;; ++page) {
    std::vector<aws::QueryParam> query = {{"list-type", "2"},
                                          {"prefix", options_.prefix},
                                          {"max-keys", std::to_string(options_.max_keys)}};
    if (!token.empty()) {
      query.push_back({"continuation-token", token});
    } else if (!start_after.empty()) {
      query.push_back({"start-after", start_after});
    }
    ASSIGN_OR_RETURN(aws::HttpResponse reply,
                     client_->Rest("ListObjectsV2", "GET", path, std::move(query), {}, "",
                                   aws::Protocol::kRestXml));
    ASSIGN_OR_RETURN(std::vector<S3Object> objects, ParseListObjectsV2(reply.body, token));
    for (S3Object& o : objects) out.push_back(std::move(o));
    if (token.empty()) break;
    if (page > 1'000'000) return Status(Code::kInternal, "s3: pagination does not end");
  }
  std::sort(out.begin(), out.end(),
            [](const S3Object& a, const S3Object& b) { return a.key < b.key; });
  return out;
}

std::string S3Poller::ObjectPath(const std::string& key) const {
  return "/" + aws::UriEncode(options_.bucket, /*keep_slash=*/false) + "/" +
         aws::UriEncode(key, /*keep_slash=*/true);
}

Result<std::optional<S3Object>> S3Poller::Head(const std::string& key) {
  Result<aws::HttpResponse> got =
      client_->Rest("HeadObject", "HEAD", ObjectPath(key), {}, {}, "", aws::Protocol::kRestXml);
  if (!got.ok()) {
    if (got.status().code() == Code::kNotFound) return std::optional<S3Object>();
    return got.status();
  }
  S3Object object;
  object.key = key;
  object.etag = Unquote(got->FindHeader("ETag").value_or(""));
  object.last_modified_ms =
      ParseHttpDate(got->FindHeader("Last-Modified").value_or("")).value_or(0);
  (void)ParseInt(got->FindHeader("Content-Length").value_or("0"), object.size);
  return std::optional<S3Object>(std::move(object));
}

Result<PollCounts> S3Poller::PollOnce() {
  const std::string key = checkpoint_key();
  if (!loaded_) {
    ASSIGN_OR_RETURN(const std::optional<std::string> stored, target_->LoadCheckpoint(key));
    if (stored) {
      ASSIGN_OR_RETURN(checkpoint_, S3Checkpoint::Decode(*stored));
    }
    loaded_ = true;
  }
  ASSIGN_OR_RETURN(const std::vector<S3Object> listed, List(checkpoint_.floor));
  const int64_t now_ms = clock_->Now().unix_millis();

  PollCounts counts;
  std::vector<UsageRecord> records;
  S3Checkpoint next = checkpoint_;  // what is durable once `records` are applied
  size_t objects_pending = 0;
  bool forgot = false;
  auto flush = [&]() -> Status {
    RETURN_IF_ERROR(target_->Apply(records, "s3", key, next.Encode(), counts));
    checkpoint_ = next;
    records.clear();
    objects_pending = 0;
    return Status::Ok();
  };
  auto forget_damaged = [&]() {
    const int64_t found_before = now_ms - options_.damaged_watch_hours * 3'600'000;
    for (const std::string& k : next.ForgetDamaged(options_.max_damaged_objects, found_before)) {
      forgot = true;
      counts.unreadable.push_back(
          k + ": no longer watched for a fixed copy under its key (found damaged over " +
          std::to_string(options_.damaged_watch_hours) + " hours ago, or more than " +
          std::to_string(options_.max_damaged_objects) +
          " damaged objects); put an intact copy under a new key");
    }
  };
  // Reads `object` into `records`, noting in `next` whether it was damaged.
  auto read = [&](const S3Object& object) -> Status {
    Result<aws::HttpResponse> got = client_->Rest("GetObject", "GET", ObjectPath(object.key), {},
                                                  {}, "", aws::Protocol::kRestXml);
    if (!got.ok() && got.status().code() != Code::kNotFound) {
      // Keep what was read; the rest (this object included) is read next time.
      if (objects_pending > 0) RETURN_IF_ERROR(flush());
      return got.status();
    }
    if (!got.ok()) return Status::Ok();  // deleted since it was listed; nothing to read
    ++counts.objects;
    CollectSink sink(records, counts);
    auto in = MemorySource(got->body);
    const Status parsed = parser_->ParseStream(*in, object.key, sink);
    if (parsed.ok()) {
      next.damaged.erase(object.key);
      return Status::Ok();
    }
    // Unreadable (a damaged gzip): the records before the damage are applied; the object is
    // watched for a fixed copy under its key. The ETag is the one of what was read.
    ++counts.rejected;
    const auto [it, added] = next.damaged.try_emplace(object.key);
    it->second.etag = Unquote(got->FindHeader("ETag").value_or(object.etag));
    it->second.last_modified_ms = object.last_modified_ms;
    it->second.size = object.size;
    if (added) it->second.found_ms = now_ms;  // a copy still damaged keeps the first date
    counts.unreadable.push_back(
        parsed.message() + "; a fixed copy put under the same key within " +
        std::to_string(options_.damaged_watch_hours) +
        " hours of the first damaged read is read again, or put an intact copy under a new key "
        "(the records already counted are not counted twice)");
    forget_damaged();
    return Status::Ok();
  };

  for (const S3Object& object : listed) {
    if (object.key <= checkpoint_.floor) continue;
    if (next.done.count(object.key) > 0) {
      // Done, unless it was damaged and the key now holds something else (a fixed copy).
      const auto damaged = next.damaged.find(object.key);
      if (damaged == next.damaged.end() || damaged->second.Same(object)) continue;
    }
    if (object.key.back() != '/') {  // "folder" placeholders hold nothing
      RETURN_IF_ERROR(read(object));
    }
    next.done[object.key] = object.last_modified_ms;
    ++objects_pending;
    if (records.size() >= options_.batch_records || objects_pending >= kMaxObjectsPerBatch) {
      RETURN_IF_ERROR(flush());
    }
  }

  // The damaged keys the floor has passed are not listed: HeadObject tells whether they changed.
  if (now_ms >= next_damaged_check_ms_) {
    std::vector<std::string> below;
    for (const auto& [k, damaged] : next.damaged) {
      if (k <= checkpoint_.floor) below.push_back(k);
    }
    for (const std::string& k : below) {
      Result<std::optional<S3Object>> head = Head(k);
      if (!head.ok()) {
        if (objects_pending > 0) RETURN_IF_ERROR(flush());
        return head.status();
      }
      const auto damaged = next.damaged.find(k);
      // Gone (perhaps to be put again) or unchanged: still watched.
      if (!*head || damaged == next.damaged.end() || damaged->second.Same(**head)) continue;
      RETURN_IF_ERROR(read(**head));
      ++objects_pending;
      if (records.size() >= options_.batch_records || objects_pending >= kMaxObjectsPerBatch) {
        RETURN_IF_ERROR(flush());
      }
    }
    next_damaged_check_ms_ = now_ms + options_.damaged_recheck_seconds * 1000;
  }

  forget_damaged();
  const int64_t cutoff = now_ms - options_.late_window_hours * 3'600'000;
  if (next.Compact(listed, cutoff) || objects_pending > 0 || forgot) RETURN_IF_ERROR(flush());
  return counts;
}

}  // namespace budgeteer::sources
