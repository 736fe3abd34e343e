#pragma once
#include <optional>
#include <string_view>

#include "arch/arch.hpp"
#include "arch/register_layout.hpp"
#include "server/register_cache.hpp"

namespace ustub {

// One thread's registers by name, for the architecture's own rules.
class ThreadRegisters final : public arch::RegisterAccess {
 public:
  ThreadRegisters(const arch::RegisterLayout& layout, RegisterCache& cache) : layout_(layout), cache_(cache) {}
  std::optional<std::uint64_t> get(std::string_view name) override {
    const arch::LayoutEntry* e = layout_.find_by_name(name);
    return e ? cache_.read_u64(*e->info) : std::nullopt;
  }
  void set(std::string_view name, std::uint64_t value) override {
    if (const arch::LayoutEntry* e = layout_.find_by_name(name)) cache_.write_u64(*e->info, value);
  }

 private:
  const arch::RegisterLayout& layout_;
  RegisterCache& cache_;
};

}  // namespace ustub
