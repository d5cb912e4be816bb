#include "sources/s3_poller.h"

#include <algorithm>
#include <charconv>

#include "aws/endpoint.h"
#include "aws/http.h"
#include "aws/xml.h"

namespace budgeteer::sources {

namespace {

constexpr std::string_view kMagic = "s3ckpt 1";
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

std::string S3Checkpoint::Encode() const {
  std::string out(kMagic);
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
  return out;
}

Result<S3Checkpoint> S3Checkpoint::Decode(std::string_view text) {
  constexpr std::string_view kDamaged =
      "s3 checkpoint in the ledger is damaged; delete its meta row to read the prefix again "
      "from the start (de-duplication keeps the totals right)";
  ASSIGN_OR_RETURN(const std::vector<std::string_view> lines,
                   CheckpointLines(text, kMagic, kDamaged));
  if (lines.empty()) return Status(Code::kDataLoss, std::string(kDamaged));
  S3Checkpoint out;
  ASSIGN_OR_RETURN(out.floor, Unescape(lines[0]));
  std::string previous;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
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
  ASSIGN_OR_RETURN(poller->transport_, aws::MakeCurlTransport(size_t{256} << 20));
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

  PollCounts counts;
  std::vector<UsageRecord> records;
  S3Checkpoint next = checkpoint_;  // what is durable once `records` are applied
  size_t objects_pending = 0;
  auto flush = [&]() -> Status {
    RETURN_IF_ERROR(target_->Apply(records, "s3", key, next.Encode(), counts));
    checkpoint_ = next;
    records.clear();
    objects_pending = 0;
    return Status::Ok();
  };

  for (const S3Object& object : listed) {
    if (object.key <= checkpoint_.floor || next.done.count(object.key) > 0) continue;
    if (object.key.back() != '/') {  // "folder" placeholders hold nothing
      const std::string path = "/" + aws::UriEncode(options_.bucket, false) + "/" +
                               aws::UriEncode(object.key, /*keep_slash=*/true);
      Result<aws::HttpResponse> got =
          client_->Rest("GetObject", "GET", path, {}, {}, "", aws::Protocol::kRestXml);
      if (!got.ok() && got.status().code() != Code::kNotFound) {
        // Keep what was read; the rest (this object included) is read next time.
        if (objects_pending > 0) RETURN_IF_ERROR(flush());
        return got.status();
      }
      if (got.ok()) {  // NotFound: deleted since it was listed; nothing to read
        ++counts.objects;
        CollectSink sink(records, counts);
        auto in = MemorySource(got->body);
        const Status parsed = parser_->ParseStream(*in, object.key, sink);
        if (!parsed.ok()) {
          // Unreadable (a damaged gzip): the records before the damage are applied; the object
          // is marked read and never retried, since S3 objects do not change under their key.
          ++counts.rejected;
          counts.unreadable.push_back(
              parsed.message() +
              "; it is not read again: put an intact copy under a new key (the records already "
              "counted are not counted twice)");
        }
      }
    }
    next.done[object.key] = object.last_modified_ms;
    ++objects_pending;
    if (records.size() >= options_.batch_records || objects_pending >= kMaxObjectsPerBatch) {
      RETURN_IF_ERROR(flush());
    }
  }
  const int64_t cutoff = clock_->Now().unix_millis() - options_.late_window_hours * 3'600'000;
  if (next.Compact(listed, cutoff) || objects_pending > 0) RETURN_IF_ERROR(flush());
  return counts;
}

}  // namespace budgeteer::sources
