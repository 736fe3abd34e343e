#pragma once
#include <string>
#include <vector>

#include "arch/arch.hpp"

namespace arch {
struct LayoutEntry;
std::string build_target_xml(const Arch& arch, const std::vector<LayoutEntry>& entries);
}  // namespace arch
