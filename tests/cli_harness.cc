#include "tests/cli_harness.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/input.h"

namespace budgeteer::testing {

namespace {
std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}
}  // namespace

CliHarness::CliHarness() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "budgeteer-e2e-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  dir_ = tmpl;
}

CliHarness::~CliHarness() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

RunResult CliHarness::Run(const std::vector<std::string>& args, const std::string& now) const {
  std::string cmd = Quote(BUDGETEER_BINARY) + " --db " + Quote(dir_ + "/ledger.db");
  if (!now.empty()) cmd += " --now " + Quote(now);
  if (!config_.empty()) cmd += " --config " + Quote(config_);
  for (const auto& a : args) cmd += " " + Quote(a);
  const std::string out_path = dir_ + "/stdout.txt";
  const std::string err_path = dir_ + "/stderr.txt";
  cmd += " >" + Quote(out_path) + " 2>" + Quote(err_path) + " </dev/null";
  const int status = std::system(cmd.c_str());  // NOLINT(cert-env33-c)
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  return r;
}

std::string CliHarness::Write(const std::string& name, const std::string& content) const {
  const std::string path = dir_ + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << content;
  return path;
}

std::string CliHarness::WriteGzip(const std::string& name, const std::string& content) const {
  auto gz = Gzip(content);
  if (!gz.ok()) std::abort();
  return Write(name, *gz);
}

std::string LogRecord::Json() const {
  std::ostringstream o;
  o << R"({"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":")" << timestamp
    << R"(","accountId":"111122223333","identity":{"arn":")" << arn
    << R"("},"region":"us-east-1","requestId":")" << request_id
    << R"(","operation":"Converse","modelId":")" << model
    << R"(","input":{"inputContentType":"application/json","inputTokenCount":)" << input
    << R"(,"cacheReadInputTokenCount":)" << cache_read << R"(,"cacheWriteInputTokenCount":)"
    << cache_write << R"(},"output":{"outputContentType":"application/json","outputTokenCount":)"
    << output << "}" << extra << "}";
  return o.str();
}

std::string CloudWatchPayload(const std::vector<std::string>& record_lines) {
  std::string json =
      R"({"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/aws/bedrock/modelinvocations","logStream":"s","subscriptionFilters":["f"],"logEvents":[)";
  for (size_t i = 0; i < record_lines.size(); ++i) {
    if (i > 0) json += ",";
    std::string escaped;
    for (char c : record_lines[i]) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    json += R"({"id":")" + std::to_string(i) + R"(","timestamp":1772359200000,"message":")" +
            escaped + "\"}";
  }
  json += "]}";
  auto gz = Gzip(json);
  if (!gz.ok()) std::abort();
  return Base64Encode(*gz);
}

std::string JsonValue(const std::string& json, const std::string& key, size_t after) {
  const std::string needle = "\"" + key + "\":";
  size_t pos = json.find(needle, after);
  if (pos == std::string::npos) return "";
  pos += needle.size();
  while (pos < json.size() && json[pos] == ' ') ++pos;
  size_t end = pos;
  if (json[pos] == '"') {
    end = json.find('"', pos + 1);
    return json.substr(pos + 1, end - pos - 1);
  }
  while (end < json.size() && json[end] != ',' && json[end] != '}' && json[end] != '\n') ++end;
  return json.substr(pos, end - pos);
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

}  // namespace budgeteer::testing
