// The JSON shapes scripts and the dashboard rely on, shared by the CLI's --json and the REST
// API (same field names everywhere). Money is written as exact decimals. Pure functions.
#pragma once

#include <string>

#include "engine/engine.h"
#include "pricing/pricing.h"
#include "store/ledger.h"
#include "util/json_writer.h"

namespace budgeteer {

void WriteBudget(JsonWriter& w, const BudgetView& view);
void WritePrice(JsonWriter& w, const ModelPrice& price);
void WritePriceFields(JsonWriter& w, const ModelPrice& price);  // into an open object
// `principal` is "ACCOUNT:NAME", or empty for entries not about one principal.
void WriteAudit(JsonWriter& w, const AuditEntry& e, const std::string& principal);
void WriteOutbox(JsonWriter& w, const OutboxAction& a, const std::string& principal);
// One row of a usage query; `key_name` is "model", "day", "hour", "principal" or "total".
void WriteUsageRow(JsonWriter& w, const char* key_name, const std::string& key,
                   const UsageQueryRow& r);

}  // namespace budgeteer
