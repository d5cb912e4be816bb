#include "engine/request_id_set.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace budgeteer {

RequestIdSet::Slot RequestIdSet::Hash(std::string_view id) {
  const XXH128_hash_t h = XXH3_128bits(id.data(), id.size());
  Slot s{h.low64, h.high64};
  if (s.empty()) s.lo = 1;  // (0, 0) marks an empty slot
  return s;
}

size_t RequestIdSet::Find(const Slot& key) const {
  const size_t mask = slots_.size() - 1;
  size_t i = static_cast<size_t>(key.lo) & mask;
  while (true) {
    const Slot& s = slots_[i];
    if (s.empty() || (s.lo == key.lo && s.hi == key.hi)) return i;
    i = (i + 1) & mask;
  }
}

bool RequestIdSet::Insert(std::string_view request_id) {
  if ((size_ + 1) * 2 > slots_.size()) Rehash(slots_.size() * 2);
  const Slot key = Hash(request_id);
  const size_t i = Find(key);
  if (!slots_[i].empty()) return false;
  slots_[i] = key;
  ++size_;
  return true;
}

bool RequestIdSet::Contains(std::string_view request_id) const {
  return !slots_[Find(Hash(request_id))].empty();
}

void RequestIdSet::Rehash(size_t capacity) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity, Slot{});
  for (const Slot& s : old) {
    if (!s.empty()) slots_[Find(s)] = s;
  }
}

}  // namespace budgeteer
