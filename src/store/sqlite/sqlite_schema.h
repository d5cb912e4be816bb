// The SQLite ledger's schema as an ordered list of migrations (PRAGMA user_version = the last
// one applied). Each step runs in its own transaction; steps are only ever appended, never
// edited once released. Constant data; thread-safe.
#pragma once

#include <cstdint>
#include <span>

namespace budgeteer::sqlite_schema {

// PRAGMA application_id of a budgeteer ledger ("BBGT").
inline constexpr int32_t kApplicationId = 0x42424754;

struct Migration {
  int version;              // user_version after this step
  const char* description;  // for errors and the meta table
  const char* sql;          // one or more statements
};

// Ordered by version, starting at 1, without gaps.
std::span<const Migration> Migrations();

// The schema version this binary creates and understands.
int LatestVersion();

}  // namespace budgeteer::sqlite_schema
