// A tiny XML reader for the few fields we take from AWS replies (query protocol and S3): find
// elements by name, decode a leaf's text. It does not validate, never allocates a DOM, and
// treats anything it cannot read as "not found" rather than guessing. DTDs are not processed
// (so no entity expansion attacks); comments, processing instructions and CDATA are handled.
// Why not libxml2: AWS replies are small, flat and machine-written; a 150-line reader with
// tests is easier to audit than a general parser's configuration (network access, entities).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace budgeteer::aws {

// The raw content (between start and end tag) of each element named `name` (a namespace
// prefix on the tag is ignored), in document order; an element nested in a match is part of
// that match's content, not reported separately.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view name);

// The decoded text of the first element named `name`, or nullopt.
std::optional<std::string> XmlText(std::string_view xml, std::string_view name);

// Decodes character data: the five predefined entities, numeric references and CDATA.
// Markup inside is dropped.
std::string XmlDecode(std::string_view content);

// Escapes text for an element or attribute value.
std::string XmlEscape(std::string_view text);

}  // namespace budgeteer::aws
