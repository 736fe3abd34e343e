#include "server/thread_local_storage.hpp"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace ustub {

namespace {

constexpr std::uint64_t kDtvUnallocated = ~std::uint64_t{0};  // glibc's TLS_DTV_UNALLOCATED

std::uint32_t decode_u32(const unsigned char* p, bool big_endian) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{p[big_endian ? 3 - i : i]} << (8 * i);
  return v;
}

// The bytes of an allocated, file-backed section at virtual address `address`.
const unsigned char* bytes_at(Elf* elf, std::uint64_t address, std::size_t size) {
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || sh.sh_type == SHT_NOBITS) continue;
    if (address < sh.sh_addr || address + size > sh.sh_addr + sh.sh_size) continue;
    Elf_Data* data = elf_rawdata(scn, nullptr);
    if (!data || !data->d_buf || address - sh.sh_addr + size > data->d_size) return nullptr;
    return static_cast<const unsigned char*>(data->d_buf) + (address - sh.sh_addr);
  }
  return nullptr;
}

struct Descriptors {
  std::optional<GlibcField> modid, dtv, pointer_val;
  bool complete() const { return modid && dtv && pointer_val; }
};

void find_in_table(Elf* elf, Elf_Scn* table, bool big_endian, Descriptors& found) {
  GElf_Shdr sh;
  Elf_Data* data = elf_getdata(table, nullptr);
  if (!gelf_getshdr(table, &sh) || !data || sh.sh_entsize == 0) return;
  std::size_t count = sh.sh_size / sh.sh_entsize;
  for (std::size_t i = 0; i < count && !found.complete(); ++i) {
    GElf_Sym sym;
    if (!gelf_getsym(data, static_cast<int>(i), &sym)) continue;
    const char* name = elf_strptr(elf, sh.sh_link, sym.st_name);
    if (!name || std::strncmp(name, "_thread_db_", 11) != 0) continue;
    std::optional<GlibcField>* slot = nullptr;
    if (std::strcmp(name, "_thread_db_link_map_l_tls_modid") == 0) slot = &found.modid;
    else if (std::strcmp(name, "_thread_db_dtv_dtv") == 0) slot = &found.dtv;
    else if (std::strcmp(name, "_thread_db_dtv_t_pointer_val") == 0) slot = &found.pointer_val;
    if (!slot) continue;
    const unsigned char* p = bytes_at(elf, sym.st_value, 12);
    if (!p) continue;
    *slot = GlibcField{decode_u32(p, big_endian), decode_u32(p + 4, big_endian), decode_u32(p + 8, big_endian)};
  }
}

std::optional<std::uint64_t> read_unsigned(const MemoryReader& read, std::uint64_t address, unsigned bytes) {
  if (bytes == 0 || bytes > 8) return std::nullopt;
  std::uint8_t buf[8] = {};
  if (read(address, std::span<std::uint8_t>(buf, bytes)) != static_cast<long>(bytes)) return std::nullopt;
  // The target is the machine ustub runs on: host byte order.
  if (bytes == 8) {
    std::uint64_t v;
    std::memcpy(&v, buf, 8);
    return v;
  }
  if (bytes == 4) {
    std::uint32_t v;
    std::memcpy(&v, buf, 4);
    return v;
  }
  return std::nullopt;
}

}  // namespace

std::optional<GlibcTlsLayout> read_glibc_tls_layout(const std::string& elf_path) {
  if (elf_version(EV_CURRENT) == EV_NONE) return std::nullopt;
  int fd = ::open(elf_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  Descriptors found;
  if (Elf* elf = elf_begin(fd, ELF_C_READ, nullptr)) {
    GElf_Ehdr ehdr;
    if (gelf_getehdr(elf, &ehdr)) {
      bool big_endian = ehdr.e_ident[EI_DATA] == ELFDATA2MSB;
      for (Elf64_Word wanted : {SHT_DYNSYM, SHT_SYMTAB}) {
        Elf_Scn* scn = nullptr;
        while ((scn = elf_nextscn(elf, scn)) != nullptr && !found.complete()) {
          GElf_Shdr sh;
          if (gelf_getshdr(scn, &sh) && sh.sh_type == wanted) find_in_table(elf, scn, big_endian, found);
        }
      }
    }
    elf_end(elf);
  }
  ::close(fd);
  if (!found.complete()) return std::nullopt;
  return GlibcTlsLayout{*found.modid, *found.dtv, *found.pointer_val};
}

std::vector<std::string> tls_layout_candidates(int pid) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    std::string base = path.substr(path.rfind('/') + 1);
    bool glibc = base.starts_with("libc.so") || base.starts_with("libc-") || base.starts_with("libpthread");
    if (glibc && seen.insert(path).second) out.push_back(path);
  }
  // A static program carries glibc's descriptors in its own symbol table.
  out.push_back("/proc/" + std::to_string(pid) + "/exe");
  return out;
}

bool thread_db_search_path_resolves(std::string_view path,
                                    const std::function<bool(const std::string&)>& file_exists) {
  if (path.empty()) return true;
  while (true) {
    auto colon = path.find(':');
    std::string_view entry = path.substr(0, colon);
    if (entry == "$pdir" || entry == "$sdir") return true;
    if (!entry.empty() && file_exists(std::string(entry) + "/libthread_db.so.1")) return true;
    if (colon == std::string_view::npos) return false;
    path.remove_prefix(colon + 1);
  }
}

std::variant<std::uint64_t, TlsError> thread_local_address(const GlibcTlsLayout& layout,
                                                          std::uint64_t dtv_pointer_address,
                                                          std::uint64_t link_map, std::uint64_t offset,
                                                          const MemoryReader& read) {
  // gdb names no link_map in a static program, whose only TLS module is
  // itself: module 1, as in glibc's static TLS set-up.
  auto modid = link_map == 0 ? std::optional<std::uint64_t>(1)
                             : read_unsigned(read, link_map + layout.link_map_modid.offset, layout.link_map_modid.bits / 8);
  if (!modid) return TlsError{"cannot read the module's link_map"};
  if (*modid == 0) return TlsError{"the module has no thread-local storage"};
  auto dtv = read_unsigned(read, dtv_pointer_address, 8);
  if (!dtv || *dtv == 0) return TlsError{"the thread has no dtv yet"};
  std::uint64_t entry_bytes = layout.dtv_entry.bits / 8;
  // dtv[-1].counter is how many module slots the vector has room for.
  auto slots = read_unsigned(read, *dtv - entry_bytes, 8);
  if (!slots || *modid > *slots) return TlsError{"the thread's dtv does not cover the module yet"};
  auto block = read_unsigned(read, *dtv + *modid * entry_bytes + layout.dtv_pointer_val.offset,
                             layout.dtv_pointer_val.bits / 8);
  if (!block) return TlsError{"cannot read the thread's dtv"};
  if (*block == 0 || *block == kDtvUnallocated)
    return TlsError{"the module's thread-local storage is not allocated in this thread yet"};
  return *block + offset;
}

}  // namespace ustub
