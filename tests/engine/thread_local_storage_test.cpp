// qGetTLSAddr's rules: glibc's own descriptors, the dtv walk, and where each
// architecture keeps a thread's dtv pointer.
#include <doctest/doctest.h>
#include <signal.h>

#include <cstring>

#include "server/engine.hpp"
#include "server/thread_local_storage.hpp"
#include "tests/engine/fake_memory.hpp"
#include "tests/engine/scripted_ops.hpp"

using namespace ustub;
using ustub::testing::FakeMemory;

namespace {

// Field offsets as in glibc 2.36 on x86_64 (the numbers do not matter to the
// rules; they only have to be honoured).
const GlibcTlsLayout kLayout{{64, 1, 1152}, {128, 134217727, 0}, {64, 1, 0}};
constexpr std::uint64_t kLinkMap = 0x5000, kDtvPointer = 0x7ff0008, kDtv = 0x9010;

// A thread whose dtv has room for `slots` modules, module `modid` at `block`.
FakeMemory thread_with(std::uint64_t modid, std::uint64_t slots, std::uint64_t block) {
  FakeMemory m;
  m.word(kLinkMap + 1152, modid);
  m.word(kDtvPointer, kDtv);
  m.word(kDtv - 16, slots);  // dtv[-1].counter
  m.word(kDtv, 1);           // dtv[0].counter: the generation
  for (std::uint64_t i = 1; i <= slots; ++i) m.word(kDtv + 16 * i, 0x100000 * i);
  if (modid <= slots) m.word(kDtv + 16 * modid, block);
  return m;
}

std::string error_of(const std::variant<std::uint64_t, TlsError>& r) {
  auto* e = std::get_if<TlsError>(&r);
  return e ? e->why : std::string();
}

}  // namespace

TEST_CASE("a thread-local variable is at its module's block in the thread's dtv plus its offset") {
  FakeMemory m = thread_with(2, 4, 0x7ffff7d8a6c0);
  auto r = thread_local_address(kLayout, kDtvPointer, kLinkMap, 0x10, m.reader());
  REQUIRE(std::holds_alternative<std::uint64_t>(r));
  CHECK(std::get<std::uint64_t>(r) == 0x7ffff7d8a6d0);
}

TEST_CASE("a static program's variables (gdb gives no link_map) are in module 1") {
  FakeMemory m = thread_with(1, 4, 0x4c8000);
  auto r = thread_local_address(kLayout, kDtvPointer, 0, 0x8, m.reader());
  REQUIRE(std::holds_alternative<std::uint64_t>(r));
  CHECK(std::get<std::uint64_t>(r) == 0x4c8008);
}

TEST_CASE("thread-local storage that is not there is an error, never a made-up address") {
  SUBCASE("not allocated yet in this thread (a dlopened module not touched)") {
    FakeMemory m = thread_with(3, 4, ~std::uint64_t{0});
    CHECK(error_of(thread_local_address(kLayout, kDtvPointer, kLinkMap, 0, m.reader())).find("not allocated") !=
          std::string::npos);
  }
  SUBCASE("a module past the end of the thread's dtv") {
    FakeMemory m = thread_with(6, 4, 0);
    CHECK(error_of(thread_local_address(kLayout, kDtvPointer, kLinkMap, 0, m.reader())).find("does not cover") !=
          std::string::npos);
  }
  SUBCASE("a module without TLS (module id 0)") {
    FakeMemory m = thread_with(0, 4, 0);
    CHECK(!error_of(thread_local_address(kLayout, kDtvPointer, kLinkMap, 0, m.reader())).empty());
  }
  SUBCASE("unreadable memory") {
    FakeMemory m;
    CHECK(!error_of(thread_local_address(kLayout, kDtvPointer, kLinkMap, 0, m.reader())).empty());
  }
}

TEST_CASE("glibc describes its TLS fields in the libc this machine runs (read with libelf)") {
  // Found the way the stub finds it, from /proc/PID/maps (here our own).
  auto candidates = tls_layout_candidates(::getpid());
  REQUIRE(!candidates.empty());
  std::optional<GlibcTlsLayout> layout;
  for (const auto& path : candidates)
    if ((layout = read_glibc_tls_layout(path))) break;
  REQUIRE(layout);
  CHECK(layout->link_map_modid.bits == 8 * sizeof(std::size_t));
  CHECK(layout->dtv_entry.bits == 2 * 8 * sizeof(void*));  // dtv_t: a pointer and its to_free
  CHECK(layout->dtv_pointer_val.bits == 8 * sizeof(void*));
  CHECK(!read_glibc_tls_layout("/proc/self/cmdline"));  // not ELF: nothing
}

TEST_CASE("libthread-db-search-path: only a path with no libthread_db.so.1 on it turns lookups off") {
  auto only_in_lib = [](const std::string& file) { return file == "/lib/libthread_db.so.1"; };
  CHECK(thread_db_search_path_resolves("", only_in_lib));  // the default
  CHECK(thread_db_search_path_resolves("$pdir", only_in_lib));
  CHECK(thread_db_search_path_resolves("/foo:$sdir", only_in_lib));
  CHECK(thread_db_search_path_resolves("/foo:/lib", only_in_lib));
  CHECK(!thread_db_search_path_resolves("/foo/bar", only_in_lib));
  CHECK(!thread_db_search_path_resolves("/foo::/bar:", only_in_lib));
  CHECK(!thread_db_search_path_resolves("$pdirx", only_in_lib));
}

TEST_CASE("x86_64: a thread's dtv pointer follows the TCB self-pointer at fs_base") {
  using namespace ustub::testing;
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("x86_64"), ops};
  constexpr pid_t kPid = 100;
  ops.set_pc(kPid, 0x1000);
  std::uint64_t fs_base = 0x7ffff7d8a740;
  std::memcpy(ops.general[kPid].data() + 21 * 8, &fs_base, 8);  // user_regs_struct.fs_base
  engine.adopt(kPid, {kPid}, true, {EngineStop::Kind::Signal, kPid, SIGTRAP});
  CHECK(engine.dtv_pointer_address(kPid) == fs_base + 8);
  CHECK(!engine.dtv_pointer_address(kPid + 1));  // no such thread
}
