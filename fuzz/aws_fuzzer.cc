// Fuzzes what our AWS client reads from replies: the XML reader (query protocol, S3), top-level
// JSON string fields (JSON protocols, credential documents) and error replies of every protocol
// (ParseAwsError, ClassifyAwsError). The first byte picks the HTTP status and the element name
// looked for. Invariants: non-empty elements found are slices of the input; XmlDecode(XmlEscape(s))
// is s; escaped text contains no markup; an error reply always becomes a non-OK Status.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "aws/client.h"
#include "aws/json_fields.h"
#include "aws/xml.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace budgeteer;
  if (size == 0) return 0;
  static constexpr std::string_view kNames[] = {
      "Code", "Message", "Error", "Key", "Contents", "NextContinuationToken", "Arn", "x"};
  const std::string_view name = kNames[data[0] % 8];
  const std::string_view text = fuzz::AsText(data + 1, size - 1);

  for (std::string_view element : aws::XmlElements(text, name)) {
    if (element.empty()) continue;  // <Name/> is an empty view, not a slice
    FUZZ_CHECK(element.data() >= text.data() &&
                   element.data() + element.size() <= text.data() + text.size(),
               "an element outside the input");
  }
  (void)aws::XmlText(text, name);
  (void)aws::XmlDecode(text);
  const std::string escaped = aws::XmlEscape(text);
  FUZZ_CHECK(escaped.find('<') == std::string::npos && escaped.find('>') == std::string::npos,
             escaped);
  FUZZ_CHECK(aws::XmlDecode(escaped) == text, escaped);
  auto field = aws::JsonStringField(text, name);
  if (field) FUZZ_CHECK(field->size() <= text.size(), "a field longer than the document");

  aws::HttpResponse response;
  response.status = 400 + (data[0] >> 4) * 10;  // 400 ... 550
  response.headers.push_back({"x-amzn-ErrorType", std::string(name)});
  response.body = std::string(text);
  for (aws::Protocol protocol : {aws::Protocol::kQuery, aws::Protocol::kJson,
                                 aws::Protocol::kRestJson, aws::Protocol::kRestXml}) {
    const aws::AwsError error = aws::ParseAwsError(protocol, response);
    FUZZ_CHECK(error.http_status == response.status, "status changed");
    const Status status = aws::ClassifyAwsError(error, "fuzz Call");
    FUZZ_CHECK(!status.ok(), "an error reply classified as OK");
    FUZZ_CHECK(status.message().rfind("fuzz Call", 0) == 0, status.message());
  }
  return 0;
}
