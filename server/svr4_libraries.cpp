#include "server/svr4_libraries.hpp"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <vector>

#include "rsp/hex.hpp"
#include "rsp/xml.hpp"
#include "server/auxv.hpp"

namespace ustub {

namespace {

// 64-bit glibc layouts (<link.h>).
constexpr std::uint64_t kRVersion = 0, kRMap = 8, kRNext = 40;
constexpr std::uint64_t kLAddr = 0, kLName = 8, kLLd = 16, kLNext = 24, kLPrev = 32;
constexpr std::size_t kMaxObjects = 100000;  // a corrupt list must not loop forever

std::optional<std::uint64_t> read_word(const MemoryReader& read, std::uint64_t address) {
  std::uint8_t buf[8];
  if (read(address, buf) != 8) return std::nullopt;
  std::uint64_t v;
  std::memcpy(&v, buf, 8);
  return v;
}

std::string read_c_string(const MemoryReader& read, std::uint64_t address) {
  std::string out;
  std::uint8_t chunk[256];
  while (out.size() < 4096) {
    long n = read(address + out.size(), chunk);
    if (n <= 0) break;
    auto* end = static_cast<std::uint8_t*>(std::memchr(chunk, 0, static_cast<std::size_t>(n)));
    out.append(reinterpret_cast<char*>(chunk), end ? static_cast<std::size_t>(end - chunk) : static_cast<std::size_t>(n));
    if (end) break;
  }
  return out;
}

std::string hex_address(std::uint64_t v) { return "0x" + rsp::number_to_hex(v); }

}  // namespace

std::optional<std::uint64_t> dynamic_section_address(const std::string& executable_path,
                                                     std::string_view auxv) {
  auto at_phdr = auxv_value(auxv, AT_PHDR);
  if (!at_phdr) return std::nullopt;
  if (elf_version(EV_CURRENT) == EV_NONE) return std::nullopt;
  int fd = ::open(executable_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::uint64_t> result;
  if (Elf* elf = elf_begin(fd, ELF_C_READ, nullptr)) {
    GElf_Ehdr ehdr;
    std::size_t count = 0;
    if (gelf_getehdr(elf, &ehdr) && elf_getphdrnum(elf, &count) == 0) {
      std::optional<std::uint64_t> phdr_vaddr, dynamic_vaddr;
      for (std::size_t i = 0; i < count; ++i) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, static_cast<int>(i), &ph)) continue;
        if (ph.p_type == PT_PHDR) phdr_vaddr = ph.p_vaddr;
        if (ph.p_type == PT_DYNAMIC) dynamic_vaddr = ph.p_vaddr;
        // Without PT_PHDR, the headers sit in the segment that maps file offset 0.
        if (ph.p_type == PT_LOAD && ph.p_offset == 0 && !phdr_vaddr)
          phdr_vaddr = ph.p_vaddr + ehdr.e_phoff;
      }
      if (phdr_vaddr && dynamic_vaddr) result = *at_phdr - *phdr_vaddr + *dynamic_vaddr;
    }
    elf_end(elf);
  }
  ::close(fd);
  return result;
}

namespace {

// Appends one <library> per object of a namespace's chain, from `lm` on.
void append_chain(std::string& doc, std::uint64_t lmid, std::uint64_t lm, std::uint64_t prev,
                  std::set<std::uint64_t>& seen, const MemoryReader& read) {
  while (lm != 0 && seen.insert(lm).second && seen.size() < kMaxObjects) {
    auto l_name = read_word(read, lm + kLName);
    auto l_addr = read_word(read, lm + kLAddr);
    auto l_ld = read_word(read, lm + kLLd);
    auto l_prev = read_word(read, lm + kLPrev);
    auto l_next = read_word(read, lm + kLNext);
    if (!l_name || !l_addr || !l_ld || !l_prev || !l_next || *l_prev != prev) break;
    std::string name = read_c_string(read, *l_name);
    if (!name.empty())
      doc += "<library name=\"" + rsp::xml_escape(name) + "\" lm=\"" + hex_address(lm) +
             "\" l_addr=\"" + hex_address(*l_addr) + "\" l_ld=\"" + hex_address(*l_ld) +
             "\" lmid=\"" + hex_address(lmid) + "\"/>";
    prev = lm;
    lm = *l_next;
  }
}

}  // namespace

std::string svr4_library_list_from(std::uint64_t start, std::uint64_t prev, std::uint64_t lmid,
                                   const MemoryReader& read) {
  std::string doc = "<library-list-svr4 version=\"1.0\">";
  std::set<std::uint64_t> seen;
  append_chain(doc, lmid, start, prev, seen, read);
  return doc + "</library-list-svr4>";
}

std::optional<std::string> svr4_library_list(std::uint64_t dynamic_address, const MemoryReader& read) {
  std::string doc = "<library-list-svr4 version=\"1.0\"";
  // DT_DEBUG holds r_debug once the dynamic linker has started.
  std::optional<std::uint64_t> r_debug_entry;
  for (std::uint64_t at = dynamic_address;; at += 16) {
    auto tag = read_word(read, at);
    auto value = read_word(read, at + 8);
    if (!tag || !value || *tag == DT_NULL) break;
    if (*tag == DT_DEBUG) {
      r_debug_entry = *value;
      break;
    }
  }
  // No DT_DEBUG at all (the dynamic linker run as the program): gdb finds
  // r_debug from the linker's symbols itself.
  if (!r_debug_entry) return std::nullopt;
  std::uint64_t r_debug = *r_debug_entry;
  bool first_namespace = true;
  bool header_closed = false;
  std::set<std::uint64_t> seen;
  while (r_debug != 0 && seen.size() < kMaxObjects) {
    auto version = read_word(read, r_debug + kRVersion);
    auto map = read_word(read, r_debug + kRMap);
    if (!version || (*version & 0xffffffff) < 1 || !map) break;
    std::uint64_t lm = *map, prev = 0;
    if (first_namespace) {
      // The first object is the executable itself: gdb wants its address apart.
      doc += lm ? " main-lm=\"" + hex_address(lm) + "\">" : ">";
      header_closed = true;
      first_namespace = false;
      if (lm) {
        prev = lm;
        auto next = read_word(read, lm + kLNext);
        lm = next ? *next : 0;
      }
    }
    append_chain(doc, r_debug, lm, prev, seen, read);
    if ((*version & 0xffffffff) < 2) break;
    auto next = read_word(read, r_debug + kRNext);
    r_debug = next ? *next : 0;
  }
  if (!header_closed) doc += ">";
  doc += "</library-list-svr4>";
  return doc;
}

}  // namespace ustub
