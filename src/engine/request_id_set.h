// RequestIdSet: the in-memory half of exactly-once accounting. Holds 128-bit hashes (XXH3) of
// the request ids applied within the de-duplication window; the durable half is the usage table,
// from which the set is rebuilt at start-up and caught up before every batch.
//
// 16 bytes per id in an open-addressing table kept at most half full (~32-64 bytes per id).
// A false "seen" needs a 128-bit hash collision (~1e-29 for a billion ids). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace budgeteer {

class RequestIdSet {
 public:
  RequestIdSet() { Rehash(1024); }

  // The 128-bit hash the set stores: compute it once, then Contains/Insert it.
  struct Key {
    uint64_t lo = 0;
    uint64_t hi = 0;
  };
  static Key KeyOf(std::string_view request_id);

  // Adds the id; returns false when it was already present.
  bool Insert(std::string_view request_id) { return Insert(KeyOf(request_id)); }
  bool Insert(const Key& key);
  bool Contains(std::string_view request_id) const { return Contains(KeyOf(request_id)); }
  bool Contains(const Key& key) const;
  // Makes room for `n` ids without rehashing.
  void Reserve(size_t n);
  size_t size() const { return size_; }
  size_t memory_bytes() const { return slots_.size() * sizeof(Slot); }
  void Clear() {
    slots_.assign(slots_.size(), Slot{});
    size_ = 0;
  }

 private:
  struct Slot {
    uint64_t lo = 0;
    uint64_t hi = 0;
    bool empty() const { return lo == 0 && hi == 0; }
  };
  size_t Find(const Slot& key) const;  // index of the key or of the empty slot to use
  void Rehash(size_t capacity);

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace budgeteer
