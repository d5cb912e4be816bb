// FaultyLedger: a LedgerStore that forwards to a real one and fails on command, for fault
// injection tests (leveldb's error-injecting Env, for the ledger). A failed write transaction
// runs the caller's function in full and then rolls back, as a COMMIT that hits a full or
// read-only disk would; reads can fail too. Thread-safety: as the wrapped store (the failure
// switches are atomics, so a test thread may flip them while another thread uses the store).
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "store/ledger.h"

namespace budgeteer::testing {

class FaultyLedger final : public LedgerStore {
 public:
  explicit FaultyLedger(LedgerStore& inner) : inner_(inner) {}

  // While set, every write transaction fails (after running its function) with `error`.
  void FailWrites(Status error) {
    write_error_ = std::move(error);
    fail_writes_.store(true);
  }
  // While set, reads fail with the same error as writes.
  void FailReads(bool on) { fail_reads_.store(on); }
  void Heal() {
    fail_writes_.store(false);
    fail_reads_.store(false);
  }
  int64_t failed_writes() const { return failed_writes_.load(); }

  // The errors SQLite reports for a full disk and a read-only file, as the adapter maps them.
  static Status DiskFull() {
    return {Code::kUnavailable,
            "ledger: commit: database or disk is full (free disk space, then retry)", true};
  }

  Status WriteTransaction(const std::function<Status(LedgerTxn&)>& fn) override {
    return inner_.WriteTransaction([&](LedgerTxn& txn) -> Status {
      Status st = fn(txn);
      if (!st.ok()) return st;
      if (fail_writes_.load()) {
        ++failed_writes_;
        return write_error_;  // the inner store rolls back
      }
      return st;
    });
  }

  Result<std::vector<PrincipalRow>> ListPrincipals() override {
    RETURN_IF_ERROR(ReadFault());
    return inner_.ListPrincipals();
  }
  Result<std::optional<PrincipalRow>> FindPrincipal(const PrincipalKey& key) override {
    RETURN_IF_ERROR(ReadFault());
    return inner_.FindPrincipal(key);
  }
  Result<std::vector<PrincipalRow>> FindPrincipalsByName(const std::string& name) override {
    RETURN_IF_ERROR(ReadFault());
    return inner_.FindPrincipalsByName(name);
  }
  Result<std::optional<PrincipalRow>> GetPrincipal(int64_t id) override {
    RETURN_IF_ERROR(ReadFault());
    return inner_.GetPrincipal(id);
  }
  Result<std::vector<UsageQueryRow>> QueryUsage(const UsageQuery& q) override {
    RETURN_IF_ERROR(ReadFault());
    return inner_.QueryUsage(q);
  }
  Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& q) override {
    RETURN_IF_ERROR(ReadFault());
    return inner_.QueryAudit(q);
  }
  Result<std::vector<OutboxAction>> ListOutbox(int64_t limit) override {
    RETURN_IF_ERROR(ReadFault());
    return inner_.ListOutbox(limit);
  }
  Result<std::vector<OutboxCount>> CountOutbox() override {
    RETURN_IF_ERROR(ReadFault());
    return inner_.CountOutbox();
  }
  Result<std::vector<UnpricedModelRow>> ListUnpricedModels() override {
    RETURN_IF_ERROR(ReadFault());
    return inner_.ListUnpricedModels();
  }
  Status ScanRequestIdsSince(Timestamp since, const std::function<void(std::string_view)>& fn,
                             int64_t& max_id) override {
    RETURN_IF_ERROR(ReadFault());
    return inner_.ScanRequestIdsSince(since, fn, max_id);
  }
  Result<Money> PeriodSpend(int64_t principal_id, Timestamp period_start) override {
    RETURN_IF_ERROR(ReadFault());
    return inner_.PeriodSpend(principal_id, period_start);
  }

 private:
  Status ReadFault() const { return fail_reads_.load() ? write_error_ : Status::Ok(); }

  LedgerStore& inner_;
  std::atomic<bool> fail_writes_{false};
  std::atomic<bool> fail_reads_{false};
  std::atomic<int64_t> failed_writes_{0};
  Status write_error_ = DiskFull();  // set before fail_writes_ is raised
};

}  // namespace budgeteer::testing
