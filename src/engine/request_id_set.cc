#include "engine/request_id_set.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace budgeteer {

RequestIdSet::Key RequestIdSet::KeyOf(std::string_view id) {
  const XXH128_hash_t h = XXH3_128bits(id.data(), id.size());
  Key k{h.low64, h.high64};
  if (k.lo == 0 && k.hi == 0) k.lo = 1;  // (0, 0) marks an empty slot
  return k;
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

bool RequestIdSet::Insert(const Key& key) {
  const Slot slot{key.lo, key.hi};
  size_t i = Find(slot);
  if (!slots_[i].empty()) return false;  // a duplicate never triggers a rehash
  if ((size_ + 1) * 2 > slots_.size()) {
    Rehash(slots_.size() * 2);
    i = Find(slot);
  }
  slots_[i] = slot;
  ++size_;
  return true;
}

bool RequestIdSet::Contains(const Key& key) const {
  return !slots_[Find(Slot{key.lo, key.hi})].empty();
}

void RequestIdSet::Reserve(size_t n) {
  size_t capacity = slots_.size();
  while (capacity < n * 2) capacity *= 2;
  if (capacity != slots_.size()) Rehash(capacity);
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
