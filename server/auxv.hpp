#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ustub {

// The raw auxiliary vector of a process (/proc/PID/auxv), or nullopt.
std::optional<std::string> read_auxv(pid_t pid);
// One entry of a 64-bit native-order auxv.
std::optional<std::uint64_t> auxv_value(std::string_view auxv, std::uint64_t type);

}  // namespace ustub
