#include "sources/logs_poller.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "aws/endpoint.h"
#include "util/json_writer.h"

namespace budgeteer::sources {

namespace {

constexpr std::string_view kMagic = "cwckpt 1";

struct Event {
  int64_t timestamp_ms = 0;
  std::string id;
  std::string message;
};

// The events and nextToken of one FilterLogEvents reply.
Status ParseFilterReply(simdjson::ondemand::parser& parser, const std::string& reply,
                        std::vector<Event>& events, std::string& next_token) {
  const auto bad = [] {
    return Status(Code::kUnavailable, "logs FilterLogEvents: the reply is not the expected JSON");
  };
  simdjson::padded_string padded(reply);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(root) != simdjson::SUCCESS) {
    return bad();
  }
  next_token.clear();
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return bad();
    if (key == "nextToken") {
      std::string_view token;
      if (field.value().get_string().get(token) == simdjson::SUCCESS) next_token = token;
    } else if (key == "events") {
      simdjson::ondemand::array array;
      if (field.value().get_array().get(array) != simdjson::SUCCESS) return bad();
      for (auto item : array) {
        simdjson::ondemand::object e;
        if (item.get_object().get(e) != simdjson::SUCCESS) return bad();
        Event event;
        for (auto ef : e) {
          std::string_view ek;
          if (ef.unescaped_key().get(ek) != simdjson::SUCCESS) return bad();
          std::string_view text;
          if (ek == "timestamp") {
            if (ef.value().get_int64().get(event.timestamp_ms) != simdjson::SUCCESS) return bad();
          } else if (ek == "eventId") {
            if (ef.value().get_string().get(text) != simdjson::SUCCESS) return bad();
            event.id = text;
          } else if (ek == "message") {
            if (ef.value().get_string().get(text) != simdjson::SUCCESS) return bad();
            event.message = text;
          }
        }
        if (event.id.empty() || event.id.find('\n') != std::string::npos) return bad();
        events.push_back(std::move(event));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::string LogsCheckpoint::Encode() const {
  std::string out(kMagic);
  out += '\n';
  out += std::to_string(timestamp_ms);
  out += '\n';
  for (const std::string& id : ids_at_ts) {
    out += id;
    out += '\n';
  }
  return out;
}

Result<LogsCheckpoint> LogsCheckpoint::Decode(std::string_view text) {
  constexpr std::string_view kDamaged =
      "logs checkpoint in the ledger is damaged; delete its meta row to read the group again "
      "from the start (de-duplication keeps the totals right)";
  ASSIGN_OR_RETURN(const std::vector<std::string_view> lines,
                   CheckpointLines(text, kMagic, kDamaged));
  if (lines.empty()) return Status(Code::kDataLoss, std::string(kDamaged));
  LogsCheckpoint out;
  const std::string_view ts = lines[0];
  const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), out.timestamp_ms);
  if (ec != std::errc() || end != ts.data() + ts.size()) {
    return Status(Code::kDataLoss, std::string(kDamaged));
  }
  for (size_t i = 1; i < lines.size(); ++i) out.ids_at_ts.emplace(lines[i]);
  return out;
}

bool LogsCheckpoint::Covers(int64_t ts, const std::string& event_id) const {
  return ts < timestamp_ms || (ts == timestamp_ms && ids_at_ts.count(event_id) > 0);
}

void LogsCheckpoint::Note(int64_t ts, const std::string& event_id) {
  if (ts > timestamp_ms) {
    timestamp_ms = ts;
    ids_at_ts.clear();
  }
  if (ts == timestamp_ms) ids_at_ts.insert(event_id);
}

Result<std::unique_ptr<LogsPoller>> LogsPoller::Create(const aws::Environment& env,
                                                       const Clock& clock,
                                                       LogsPollerOptions options,
                                                       PollTarget& target) {
  if (options.log_group.empty()) return InvalidArgument("ingest.cloudwatch needs a log_group");
  const std::optional<std::string> region = aws::ResolveRegion(env);
  if (!region) {
    return InvalidArgument(
        "ingest.cloudwatch needs an AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or region "
        "in the AWS profile)");
  }
  ASSIGN_OR_RETURN(aws::Endpoint endpoint, aws::ResolveEndpoint(aws::kLogs, *region, env));
  std::unique_ptr<LogsPoller> poller(new LogsPoller());
  poller->options_ = std::move(options);
  poller->options_.page_limit = std::clamp<int64_t>(poller->options_.page_limit, 1, 10'000);
  poller->clock_ = &clock;
  poller->target_ = &target;
  ASSIGN_OR_RETURN(poller->transport_, aws::MakeCurlTransport(size_t{64} << 20));
  poller->credentials_ = aws::DefaultCredentialsChain(env, *poller->transport_, clock);
  poller->client_ =
      std::make_unique<aws::AwsClient>(aws::kLogs, std::move(endpoint), poller->credentials_.get(),
                                       *poller->transport_, clock, aws::HttpTimeouts{});
  poller->parser_ = std::make_unique<InputParser>(poller->options_.limits);
  return poller;
}

Result<PollCounts> LogsPoller::PollOnce() {
  const std::string key = checkpoint_key();
  if (!loaded_) {
    ASSIGN_OR_RETURN(const std::optional<std::string> stored, target_->LoadCheckpoint(key));
    if (stored) {
      ASSIGN_OR_RETURN(checkpoint_, LogsCheckpoint::Decode(*stored));
    }
    loaded_ = true;
  }
  const LogsCheckpoint start = checkpoint_;  // what this round skips
  const int64_t end_ms = clock_->Now().unix_millis() - options_.settle_seconds * 1000;
  PollCounts counts;
  simdjson::ondemand::parser json;
  std::string token;
  for (int page = 0;; ++page) {
    JsonWriter body;
    body.BeginObject()
        .Field("logGroupName", options_.log_group)
        .Field("interleaved", true)
        .Field("limit", options_.page_limit);
    if (start.timestamp_ms > 0) body.Field("startTime", start.timestamp_ms);
    if (options_.settle_seconds > 0) body.Field("endTime", end_ms);
    if (!token.empty()) body.Field("nextToken", token);
    body.EndObject();
    ASSIGN_OR_RETURN(const std::string reply,
                     client_->Json("Logs_20140328", "FilterLogEvents", body.Take()));
    std::vector<Event> events;
    RETURN_IF_ERROR(ParseFilterReply(json, reply, events, token));

    LogsCheckpoint next = checkpoint_;
    std::vector<UsageRecord> records;
    for (const Event& event : events) {
      if (start.Covers(event.timestamp_ms, event.id)) continue;
      ++counts.objects;
      Result<UsageRecord> record = parser_->ParseRecord(event.message);
      if (record.ok()) {
        records.push_back(std::move(record).value());
      } else {
        counts.Reject("event " + event.id + ": " + record.status().message());
      }
      next.Note(event.timestamp_ms, event.id);
    }
    if (!records.empty() || next.timestamp_ms != checkpoint_.timestamp_ms ||
        next.ids_at_ts != checkpoint_.ids_at_ts) {
      RETURN_IF_ERROR(target_->Apply(records, "cloudwatch", key, next.Encode(), counts));
      checkpoint_ = std::move(next);
    }
    if (token.empty()) break;
    if (page > 1'000'000) return Status(Code::kInternal, "logs: pagination does not end");
  }
  return counts;
}

}  // namespace budgeteer::sources
