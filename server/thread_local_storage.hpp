#pragma once
// qGetTLSAddr without libthread_db: glibc describes the fields a debugger
// needs (link_map's TLS module id, the dtv's entries) in `_thread_db_*`
// symbols it exports for libthread_db; ustub reads those with libelf and
// walks the thread's dtv itself. Where the dtv pointer is, relative to the
// thread pointer, is the architecture's TLS ABI (Arch::dtv_pointer_address).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server/svr4_libraries.hpp"  // MemoryReader

namespace ustub {

// One `_thread_db_*` descriptor: {size in bits, element count, byte offset}.
struct GlibcField {
  std::uint32_t bits = 0;
  std::uint32_t count = 0;
  std::uint32_t offset = 0;
};

struct GlibcTlsLayout {
  GlibcField link_map_modid;   // _thread_db_link_map_l_tls_modid
  GlibcField dtv_entry;        // _thread_db_dtv_dtv: bits is one dtv_t's size
  GlibcField dtv_pointer_val;  // _thread_db_dtv_t_pointer_val
};

// The layout from an ELF file's symbols (dynamic first, then the static
// table); nullopt when the file is not a glibc that describes itself.
std::optional<GlibcTlsLayout> read_glibc_tls_layout(const std::string& elf_path);

// The files to read it from in a running process: its libc (or, for glibc
// before 2.34, libpthread), from /proc/PID/maps; then the program itself,
// which holds them when it is linked statically.
std::vector<std::string> tls_layout_candidates(int pid);

// gdbserver's `monitor set libthread-db-search-path PATH` says where
// libthread_db may come from; gdbserver without one cannot find thread-local
// storage. ustub's own reader stands for the default path ("" = the default,
// `$pdir`, `$sdir`); a path naming only directories, none of which holds
// libthread_db.so.1, asks for gdbserver's behaviour without it.
bool thread_db_search_path_resolves(std::string_view path,
                                    const std::function<bool(const std::string&)>& file_exists);

struct TlsError {
  std::string why;
};

// dtv[modid].pointer.val + offset, where modid is the link_map's TLS module
// id (1 when gdb gives no link_map: a static program) and the dtv is the one
// whose address sits at `dtv_pointer_address`.
std::variant<std::uint64_t, TlsError> thread_local_address(const GlibcTlsLayout& layout,
                                                          std::uint64_t dtv_pointer_address,
                                                          std::uint64_t link_map, std::uint64_t offset,
                                                          const MemoryReader& read);

}  // namespace ustub
