#pragma once
// qXfer:libraries-svr4:read — the dynamic linker's list of loaded objects,
// found through the executable's DT_DEBUG entry (r_debug) and walked in memory.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ustub {

using MemoryReader = std::function<long(std::uint64_t address, std::span<std::uint8_t> out)>;

// Where the executable's dynamic section is in memory, from its program
// headers (read with libelf) and AT_PHDR; nullopt for static executables.
std::optional<std::uint64_t> dynamic_section_address(const std::string& executable_path,
                                                     std::string_view auxv);

// The <library-list-svr4> document; empty list while r_debug is not set up
// yet; nullopt when the dynamic section has no DT_DEBUG entry.
std::optional<std::string> svr4_library_list(std::uint64_t dynamic_address, const MemoryReader& read);

// The part of one namespace's chain that gdb asks for with "start=…;prev=…"
// (it found r_debug itself, e.g. when the dynamic linker was run directly).
std::string svr4_library_list_from(std::uint64_t start, std::uint64_t prev, std::uint64_t lmid,
                                   const MemoryReader& read);

}  // namespace ustub
