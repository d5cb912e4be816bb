// IngestService over a ledger that cannot commit (testing::FaultyLedger): the Firehose contract
// under a full or read-only disk. A delivery whose batch cannot commit is answered 503 (Firehose
// retries it) with an errorMessage that says why, nothing of it is kept, and the same delivery
// sent again once the disk is back is applied once. Also the other side of that contract: a
// damaged gzip body is refused for good (400).
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/testing/engine_on_faulty_ledger.h"
#include "formats/input.h"
#include "server/ingest_service.h"

namespace budgeteer {
namespace {

using testing::EngineOnFaultyLedger;
using testing::FaultyLedger;

constexpr char kKey[] = "fh-key";

// A Firehose delivery of `n` Claude 3 Haiku records (1M input tokens, $0.25 each) of one IAM
// user, stamped a minute before 2026-03-01T12:00:00Z.
std::string Delivery(const std::string& id, int n) {
  std::string body = R"({"requestId":")" + id + R"(","timestamp":1772366340000,"records":[)";
  for (int i = 0; i < n; ++i) {
    const std::string record =
        R"({"schemaType":"ModelInvocationLog","schemaVersion":"1.0",)"
        R"("timestamp":"2026-03-01T11:59:00Z","accountId":"111122223333",)"
        R"("identity":{"arn":"arn:aws:iam::111122223333:user/BedrockAPIKey-abc"},)"
        R"("region":"us-east-1","requestId":")" +
        id + "-" + std::to_string(i) +
        R"(","operation":"Converse","modelId":"anthropic.claude-3-haiku-20240307-v1:0",)"
        R"("input":{"inputTokenCount":1000000},"output":{"outputTokenCount":0}})";
    body += (i ? "," : "") + std::string(R"({"data":")") + Base64Encode(record) + "\"}";
  }
  return body + "]}";
}

class IngestFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status opened = h_.Open();
    ASSERT_TRUE(opened.ok()) << opened.ToString();
    ingest_ = std::make_unique<IngestService>(*h_.engine, mu_, h_.clock, kKey, ParseLimits{});
  }

  HttpReply Post(const std::string& body) {
    return ingest_->Firehose(FirehoseRequest{kKey, "", "", body});
  }

  Money Spent() {
    auto view = h_.engine->ShowBudget("BedrockAPIKey-abc");
    return view.ok() ? view->row.state.spent : Money();
  }

  EngineOnFaultyLedger h_{*Timestamp::Parse("2026-03-01T12:00:00Z")};
  std::mutex mu_;
  std::unique_ptr<IngestService> ingest_;
};

TEST_F(IngestFaultsTest, DeliveryThatCannotCommitIs503AndCountsOnceWhenResent) {
  ASSERT_EQ(Post(Delivery("d1", 1)).status, 200);
  ASSERT_EQ(Spent(), Money::FromNanos(250'000'000));

  h_.faulty->FailWrites(FaultyLedger::DiskFull());
  const std::string d2 = Delivery("d2", 2);
  for (int attempt = 0; attempt < 3; ++attempt) {  // Firehose retries while the disk is full
    const HttpReply reply = Post(d2);
    EXPECT_EQ(reply.status, 503) << reply.body;
    EXPECT_NE(reply.body.find(R"("requestId":"d2")"), std::string::npos) << reply.body;
    EXPECT_NE(reply.body.find("errorMessage"), std::string::npos) << reply.body;
    EXPECT_NE(reply.body.find("free disk space"), std::string::npos) << reply.body;
  }
  EXPECT_EQ(Spent(), Money::FromNanos(250'000'000));

  h_.faulty->Heal();
  const HttpReply ok = Post(d2);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Spent(), Money::FromNanos(750'000'000));
  EXPECT_EQ(Post(d2).status, 200);  // a redelivery after the ack: a duplicate
  EXPECT_EQ(Spent(), Money::FromNanos(750'000'000));
}

TEST_F(IngestFaultsTest, ANonRetryableLedgerErrorIs500) {
  h_.faulty->FailWrites(Status(Code::kDataLoss, "ledger: the file is damaged", false));
  const HttpReply reply = Post(Delivery("d3", 1));
  EXPECT_EQ(reply.status, 500) << reply.body;
  EXPECT_NE(reply.body.find("damaged"), std::string::npos) << reply.body;
}

// Not a ledger fault, but the same contract: a gzip body that is damaged will never succeed,
// so it is refused with 400 and an errorMessage naming the damage; nothing of it is applied, and
// the intact delivery sent afterwards counts once.
TEST_F(IngestFaultsTest, DamagedGzipBodyIs400NamingTheDamageAndAppliesNothing) {
  const std::string body = Delivery("d4", 3);
  auto gz = Gzip(body);
  ASSERT_TRUE(gz.ok());
  auto post_gzip = [&](std::string_view bytes) {
    return ingest_->Firehose(FirehoseRequest{kKey, "gzip", "hdr-d4", bytes});
  };
  const std::string corrupt = [&] {
    std::string out = *gz;
    out[out.size() / 2] = static_cast<char>(out[out.size() / 2] ^ 0x55);
    return out;
  }();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {gz->substr(0, gz->size() / 2), "gzip data is truncated: it ends after"},
      {gz->substr(0, gz->size() - 4), "gzip data is truncated"},  // only the length is missing
      {corrupt, "corrupt gzip data near compressed byte"},
      {*gz + "junk", "unexpected bytes after the end of a gzip member"},
      {body, "Content-Encoding is gzip but the body is not gzip data"}};
  for (const auto& [bytes, why] : cases) {
    const HttpReply reply = post_gzip(bytes);
    EXPECT_EQ(reply.status, 400) << reply.body;
    EXPECT_NE(reply.body.find(R"("requestId":"hdr-d4")"), std::string::npos) << reply.body;
    EXPECT_NE(reply.body.find(why), std::string::npos) << reply.body;
    if (bytes != body) {
      EXPECT_NE(reply.body.find("cannot succeed as sent"), std::string::npos) << reply.body;
    }
  }
  EXPECT_EQ(Spent(), Money());
  ASSERT_EQ(post_gzip(*gz).status, 200);
  EXPECT_EQ(Spent(), Money::FromNanos(750'000'000));
}

}  // namespace
}  // namespace budgeteer
