// Output helpers for the CLI: aligned text tables and the JSON shapes that scripts rely on
// (the same field names the REST API uses). Not thread-safe.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "pricing/pricing.h"
#include "store/ledger.h"
#include "util/json_writer.h"

namespace budgeteer::cli {

// A text table: a header row and data rows, columns padded to the widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

void WriteBudget(JsonWriter& w, const BudgetView& view);
void WritePrice(JsonWriter& w, const ModelPrice& price);
void WritePriceFields(JsonWriter& w, const ModelPrice& price);  // into an open object
void WriteAudit(JsonWriter& w, const AuditEntry& e, const std::string& principal);
void WriteOutbox(JsonWriter& w, const OutboxAction& a, const std::string& principal);

// "$1.25" with at least two decimals and as many as the amount needs (exact).
std::string Dollars(Money m);

}  // namespace budgeteer::cli
