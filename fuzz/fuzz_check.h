// FUZZ_CHECK: an invariant a fuzzer asserts about a parser's result. A failed check prints the
// condition and a note, then aborts, which libFuzzer reports as a crash (and saves the input).
// Header-only; for the fuzz targets in this folder. Thread-compatible.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace budgeteer::fuzz {

[[noreturn]] inline void CheckFailed(const char* condition, const char* file, int line,
                                     std::string_view note) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %.*s\n", file, line, condition,
               static_cast<int>(note.size()), note.data());
  std::abort();
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace budgeteer::fuzz

#define FUZZ_CHECK(condition, note)                                                         \
  do {                                                                                      \
    if (!(condition)) ::budgeteer::fuzz::CheckFailed(#condition, __FILE__, __LINE__, note); \
  } while (false)
