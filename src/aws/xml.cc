#include "aws/xml.h"

#include <cctype>
#include <cstdint>

namespace budgeteer::aws {

namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.' ||
         c == ':' || static_cast<unsigned char>(c) >= 0x80;
}

std::string_view LocalName(std::string_view qname) {
  const size_t colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// One piece of markup starting at `pos` (which holds '<').
struct Tag {
  enum Kind { kStart, kEnd, kEmpty, kOther } kind = kOther;
  std::string_view name;
  size_t end = std::string_view::npos;  // one past the closing '>'
};

Tag ReadTag(std::string_view xml, size_t pos) {
  Tag tag;
  const std::string_view rest = xml.substr(pos);
  auto skip_to = [&](std::string_view terminator) {
    const size_t at = xml.find(terminator, pos);
    tag.end = at == std::string_view::npos ? std::string_view::npos : at + terminator.size();
    return tag;
  };
  if (rest.starts_with("<!--")) return skip_to("-->");
  if (rest.starts_with("<![CDATA[")) return skip_to("]]>");
  if (rest.starts_with("<?")) return skip_to("?>");
  if (rest.starts_with("<!")) return skip_to(">");
  size_t i = pos + 1;
  const bool closing = i < xml.size() && xml[i] == '/';
  if (closing) ++i;
  const size_t name_start = i;
  while (i < xml.size() && IsNameChar(xml[i])) ++i;
  tag.name = LocalName(xml.substr(name_start, i - name_start));
  // Find the '>' that ends the tag, stepping over quoted attribute values.
  char quote = 0;
  for (; i < xml.size(); ++i) {
    const char c = xml[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      tag.end = i + 1;
      break;
    }
  }
  if (tag.end == std::string_view::npos || tag.name.empty()) {
    tag.kind = Tag::kOther;
    return tag;
  }
  if (closing) {
    tag.kind = Tag::kEnd;
  } else {
    tag.kind = xml[tag.end - 2] == '/' ? Tag::kEmpty : Tag::kStart;
  }
  return tag;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one entity starting at `pos` ('&'); returns the position after it, or pos + 1 with
// the '&' kept when it is not a well-formed reference.
size_t DecodeEntity(std::string_view s, size_t pos, std::string& out) {
  const size_t semi = s.find(';', pos);
  if (semi == std::string_view::npos || semi - pos > 10) {
    out.push_back('&');
    return pos + 1;
  }
  const std::string_view name = s.substr(pos + 1, semi - pos - 1);
  if (name == "lt") {
    out.push_back('<');
  } else if (name == "gt") {
    out.push_back('>');
  } else if (name == "amp") {
    out.push_back('&');
  } else if (name == "quot") {
    out.push_back('"');
  } else if (name == "apos") {
    out.push_back('\'');
  } else if (name.size() > 1 && name[0] == '#') {
    const bool hex = name[1] == 'x' || name[1] == 'X';
    const std::string_view digits = name.substr(hex ? 2 : 1);
    uint32_t cp = 0;
    bool ok = !digits.empty();
    for (const char c : digits) {
      const int v = std::isdigit(static_cast<unsigned char>(c)) != 0 ? c - '0'
                    : hex && std::isxdigit(static_cast<unsigned char>(c)) != 0
                        ? (std::tolower(static_cast<unsigned char>(c)) - 'a' + 10)
                        : -1;
      if (v < 0 || cp > 0x10FFFF) {
        ok = false;
        break;
      }
      cp = cp * (hex ? 16u : 10u) + static_cast<uint32_t>(v);
    }
    if (!ok || cp > 0x10FFFF || cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back('&');
      return pos + 1;
    }
    AppendUtf8(out, cp);
  } else {
    out.push_back('&');
    return pos + 1;
  }
  return semi + 1;
}

}  // namespace

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> found;
  size_t pos = xml.find('<');
  while (pos != std::string_view::npos) {
    const Tag tag = ReadTag(xml, pos);
    if (tag.end == std::string_view::npos) break;
    if (tag.name != name || (tag.kind != Tag::kStart && tag.kind != Tag::kEmpty)) {
      pos = xml.find('<', tag.end);
      continue;
    }
    if (tag.kind == Tag::kEmpty) {
      found.emplace_back();
      pos = xml.find('<', tag.end);
      continue;
    }
    // Find the matching end tag, counting nested elements of the same name.
    int depth = 1;
    size_t scan = xml.find('<', tag.end);
    size_t content_end = std::string_view::npos;
    size_t after = std::string_view::npos;
    while (scan != std::string_view::npos) {
      const Tag inner = ReadTag(xml, scan);
      if (inner.end == std::string_view::npos) break;
      if (inner.name == name && inner.kind == Tag::kStart) ++depth;
      if (inner.name == name && inner.kind == Tag::kEnd && --depth == 0) {
        content_end = scan;
        after = inner.end;
        break;
      }
      scan = xml.find('<', inner.end);
    }
    if (content_end == std::string_view::npos) break;  // unterminated: stop, report none of it
    found.push_back(xml.substr(tag.end, content_end - tag.end));
    pos = xml.find('<', after);
  }
  return found;
}

std::optional<std::string> XmlText(std::string_view xml, std::string_view name) {
  const auto elements = XmlElements(xml, name);
  if (elements.empty()) return std::nullopt;
  return XmlDecode(elements.front());
}

std::string XmlDecode(std::string_view content) {
  std::string out;
  out.reserve(content.size());
  size_t i = 0;
  while (i < content.size()) {
    const char c = content[i];
    if (c == '&') {
      i = DecodeEntity(content, i, out);
    } else if (c == '<') {
      if (content.substr(i).starts_with("<![CDATA[")) {
        const size_t end = content.find("]]>", i);
        const size_t stop = end == std::string_view::npos ? content.size() : end;
        out.append(content.substr(i + 9, stop - (i + 9)));
        i = end == std::string_view::npos ? content.size() : end + 3;
      } else {
        const Tag tag = ReadTag(content, i);
        i = tag.end == std::string_view::npos ? content.size() : tag.end;
      }
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace budgeteer::aws
