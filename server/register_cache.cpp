#include "server/register_cache.hpp"

#include <cerrno>
#include <cstring>

namespace ustub {

RegisterCache::RegisterCache(const arch::Arch& arch, PtraceOps& ops, pid_t tid)
    : arch_(&arch), ops_(&ops), tid_(tid), slots_(arch.regsets().size()) {}

const std::vector<std::uint8_t>* RegisterCache::image(unsigned regset) {
  if (regset >= slots_.size()) return nullptr;
  Slot& slot = slots_[regset];
  if (!slot.fetched) {
    slot.fetched = true;
    const arch::RegsetInfo& info = arch_->regsets()[regset];
    // The kernel is offered the largest image the regset can have (x86's
    // XSAVE: 32 KiB) but fills a fraction of it; each thread keeps only
    // what was filled, or 500 threads would hold 16 MiB.
    thread_local std::vector<std::uint8_t> scratch;
    for (unsigned note : {info.note_type, info.fallback_note_type}) {
      if (note == 0) continue;
      scratch.assign(info.max_size, 0);
      if (ops_->get_regset(tid_, note, scratch) == 0) {
        slot.bytes.assign(scratch.begin(), scratch.end());
        slot.available = true;
        slot.note_type = note;
        break;
      }
    }
    if (!slot.available) slot.bytes.clear();
  }
  return slot.available ? &slot.bytes : nullptr;
}

bool RegisterCache::read(const arch::RegisterInfo& reg, std::span<std::uint8_t> value) {
  const auto* img = image(reg.regset);
  if (!img) return false;
  arch::read_field(*arch_, reg, *img, value);
  return true;
}

bool RegisterCache::write(const arch::RegisterInfo& reg, std::span<const std::uint8_t> value) {
  if (!image(reg.regset)) return false;
  Slot& slot = slots_[reg.regset];
  if (reg.offset + reg.regset_bytes() > slot.bytes.size()) return false;
  arch::write_field(*arch_, reg, value, slot.bytes);
  slot.dirty = true;
  return true;
}

std::optional<std::uint64_t> RegisterCache::read_u64(const arch::RegisterInfo& reg) {
  std::uint8_t buf[8] = {};
  if (reg.bytes() > 8 || !read(reg, std::span(buf, reg.bytes()))) return std::nullopt;
  std::uint64_t v = 0;
  for (unsigned i = 0; i < reg.bytes(); ++i) {
    unsigned shift = arch_->endian() == arch::Endian::Little ? 8 * i : 8 * (reg.bytes() - 1 - i);
    v |= static_cast<std::uint64_t>(buf[i]) << shift;
  }
  return v;
}

bool RegisterCache::write_u64(const arch::RegisterInfo& reg, std::uint64_t value) {
  std::uint8_t buf[8] = {};
  if (reg.bytes() > 8) return false;
  for (unsigned i = 0; i < reg.bytes(); ++i) {
    unsigned shift = arch_->endian() == arch::Endian::Little ? 8 * i : 8 * (reg.bytes() - 1 - i);
    buf[i] = static_cast<std::uint8_t>(value >> shift);
  }
  return write(reg, std::span(buf, reg.bytes()));
}

std::optional<std::vector<std::uint8_t>> RegisterCache::save(unsigned regset) {
  const auto* img = image(regset);
  if (!img) return std::nullopt;
  return *img;
}

bool RegisterCache::restore(unsigned regset, const std::vector<std::uint8_t>& saved) {
  const auto* img = image(regset);
  if (!img || img->size() != saved.size()) return false;
  slots_[regset].bytes = saved;
  slots_[regset].dirty = true;
  return true;
}

int RegisterCache::flush() {
  int first_error = 0;
  for (unsigned i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    if (!slot.dirty) continue;
    arch_->prepare_regset_for_write(i, slot.bytes);
    int rc = ops_->set_regset(tid_, slot.note_type, slot.bytes);
    if (rc != 0 && first_error == 0) first_error = rc;
    slot.dirty = false;
  }
  return first_error;
}

void RegisterCache::invalidate() {
  for (Slot& slot : slots_) {
    std::vector<std::uint8_t> keep = std::move(slot.bytes);  // its allocation serves the next fetch
    keep.clear();
    slot = Slot{};
    slot.bytes = std::move(keep);
  }
}

}  // namespace ustub
