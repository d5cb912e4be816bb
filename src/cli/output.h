// Output helpers for the CLI: aligned text tables (the JSON shapes are in
// engine/json_views.h, shared with the REST API). Not thread-safe.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/json_views.h"
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

// "$1.25" with at least two decimals and as many as the amount needs (exact).
std::string Dollars(Money m);

}  // namespace budgeteer::cli
