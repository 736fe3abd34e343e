#include "arch/ppc64/hw_debug.hpp"

#include <cerrno>

namespace arch {

void Ppc64HardwareDebug::probe(pid_t tid, DebugPort& port) {
  PpcDebugInfo info{};
  if (port.ppc_debug_info(tid, info) != 0) return;  // no such request: none
  data_slots_ = info.num_data_bps;
  features_ = info.features;
}

std::optional<PpcHwBreakpoint> Ppc64HardwareDebug::request_for(WatchKind kind, std::uint64_t address,
                                                               std::uint64_t length, std::uint64_t features) {
  if (kind == WatchKind::Execute || length == 0) return std::nullopt;
  PpcHwBreakpoint r{};
  r.version = 1;
  r.trigger_type = kind == WatchKind::Write  ? kTriggerWrite
                   : kind == WatchKind::Read ? kTriggerRead
                                             : kTriggerRead | kTriggerWrite;
  r.addr = address;
  // Within one aligned doubleword the exact mode (the DABR's granule) serves;
  // anything wider needs the DAWR's ranges.
  if (address / 8 == (address + length - 1) / 8) {
    r.addr_mode = kModeExact;
  } else if (features & kFeatureDataRange) {
    r.addr_mode = kModeRangeInclusive;
    r.addr2 = address + length - 1;
  } else {
    return std::nullopt;
  }
  return r;
}

int Ppc64HardwareDebug::insert(WatchKind kind, std::uint64_t address, std::uint64_t length) {
  auto request = request_for(kind, address, length, features_);
  if (!request) return EINVAL;
  if (slots_.size() >= data_slots_) return ENOSPC;
  slots_.push_back({kind, address, length, *request});
  return 0;
}

int Ppc64HardwareDebug::remove(WatchKind kind, std::uint64_t address, std::uint64_t length) {
  for (auto it = slots_.begin(); it != slots_.end(); ++it)
    if (it->kind == kind && it->address == address && it->length == length) {
      slots_.erase(it);
      return 0;
    }
  return ENOENT;
}

int Ppc64HardwareDebug::write_to_thread(pid_t tid, DebugPort& port) {
  clear_thread(tid, port);
  auto& handles = handles_[tid];
  for (const Slot& s : slots_) {
    long handle = 0;
    if (int rc = port.ppc_set_hw_debug(tid, s.request, handle)) {
      clear_thread(tid, port);
      return rc;
    }
    handles.push_back(handle);
  }
  return 0;
}

void Ppc64HardwareDebug::clear_thread(pid_t tid, DebugPort& port) {
  auto it = handles_.find(tid);
  if (it == handles_.end()) return;
  for (long handle : it->second) port.ppc_del_hw_debug(tid, handle);
  handles_.erase(it);
}

std::optional<HardwareHit> Ppc64HardwareDebug::take_hit(pid_t tid, DebugPort& port) {
  auto address = port.hardware_trap_address(tid);
  if (!address) return std::nullopt;
  for (const Slot& s : slots_) {
    // The exact mode watches the whole doubleword around the address.
    std::uint64_t start = s.request.addr_mode == kModeExact ? s.address & ~std::uint64_t{7} : s.address;
    std::uint64_t end = s.request.addr_mode == kModeExact ? start + 8 : s.address + s.length;
    if (*address < start || *address >= end) continue;
    // The kernel disarmed it on the hit: set everything again for this thread.
    write_to_thread(tid, port);
    return HardwareHit{s.kind, s.address, s.length};
  }
  return std::nullopt;
}

}  // namespace arch
