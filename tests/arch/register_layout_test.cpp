#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "arch/register_layout.hpp"
#include "arch/x86_64/x86_64_arch.hpp"

namespace {
// (name, regnum, bitsize) as target.xml lists them, in order.
struct XmlReg {
  std::string name;
  unsigned regnum, bits;
};
std::vector<XmlReg> xml_registers(const std::string& xml) {
  std::vector<XmlReg> out;
  std::regex reg_re(R"re(<reg name="([^"]+)" bitsize="(\d+)" type="[^"]+" regnum="(\d+)")re");
  for (std::sregex_iterator it(xml.begin(), xml.end(), reg_re), end; it != end; ++it)
    out.push_back({(*it)[1], static_cast<unsigned>(std::stoul((*it)[3])), static_cast<unsigned>(std::stoul((*it)[2]))});
  return out;
}
}  // namespace

TEST_CASE("x86_64: target.xml, regnums and the g layout agree with the table") {
  for (bool avx : {false, true}) {
    CAPTURE(avx);
    const auto& arch = arch::arch_by_name("x86_64");
    std::vector<std::string> optional;
    if (avx) optional.push_back("org.gnu.gdb.i386.avx");
    arch::RegisterLayout layout(arch, optional);
    auto regs = xml_registers(layout.target_xml());
    REQUIRE(regs.size() == layout.entries().size());
    std::size_t offset = 0;
    for (std::size_t i = 0; i < regs.size(); ++i) {
      const auto& e = layout.entries()[i];
      CHECK(regs[i].name == e.info->name);
      CHECK(regs[i].regnum == e.regnum);
      CHECK(regs[i].regnum == i);
      CHECK(regs[i].bits == e.info->bits);
      CHECK(e.g_offset == offset);
      offset += e.info->bytes();
    }
    CHECK(layout.g_packet_bytes() == offset);
    CHECK(layout.target_xml().find("<architecture>i386:x86-64</architecture>") != std::string::npos);
    CHECK((layout.target_xml().find("ymm0h") != std::string::npos) == avx);
  }
}

TEST_CASE("x86_64: gdb's amd64-linux numbering for the registers gdb looks up") {
  arch::RegisterLayout layout(arch::arch_by_name("x86_64"), {"org.gnu.gdb.i386.avx"});
  CHECK(layout.find_by_name("rax")->regnum == 0);
  CHECK(layout.find_by_name("rip")->regnum == 16);
  CHECK(layout.find_by_name("st0")->regnum == 24);
  CHECK(layout.find_by_name("xmm0")->regnum == 40);
  CHECK(layout.find_by_name("mxcsr")->regnum == 56);
  CHECK(layout.find_by_name("orig_rax")->regnum == 57);
  CHECK(layout.find_by_name("fs_base")->regnum == 58);
  CHECK(layout.find_by_name("ymm0h")->regnum == 60);
  CHECK(layout.g_packet_bytes() == 16 * 8 + 8 + 4 * 7 + 8 * 10 + 8 * 4 + 16 * 16 + 4 + 8 + 16 + 16 * 16);
}

TEST_CASE("x86_64: expedited registers are pc, sp and fp") {
  arch::RegisterLayout layout(arch::arch_by_name("x86_64"), {});
  std::set<std::string_view> names;
  for (const auto* e : layout.expedited()) names.insert(e->info->name);
  CHECK(names == std::set<std::string_view>{"rip", "rsp", "rbp"});
}

TEST_CASE("x86_64: regset fields fit their regsets and do not overlap") {
  const auto& arch = arch::arch_by_name("x86_64");
  std::map<unsigned, std::vector<std::pair<unsigned, unsigned>>> used;
  for (const auto& r : arch.registers()) {
    CAPTURE(r.name);
    REQUIRE(r.regset < arch.regsets().size());
    CHECK(r.offset + r.regset_bytes() <= arch.regsets()[r.regset].max_size);
    for (auto [start, end] : used[r.regset]) CHECK((r.offset >= end || r.offset + r.regset_bytes() <= start));
    used[r.regset].push_back({r.offset, r.offset + r.regset_bytes()});
  }
}

TEST_CASE("x86_64: narrow fields widen on read and narrow on write") {
  const auto& arch = arch::arch_by_name("x86_64");
  arch::RegisterLayout layout(arch, {});
  const auto& eflags = *layout.find_by_name("eflags")->info;
  std::vector<std::uint8_t> image(27 * 8, 0);
  image[144] = 0x46;
  image[145] = 0x02;
  image[148] = 0xff;  // upper half of the 8-byte slot is not part of the 32-bit register
  std::vector<std::uint8_t> value(4);
  arch::read_field(arch, eflags, image, value);
  CHECK(value == std::vector<std::uint8_t>{0x46, 0x02, 0, 0});
  std::vector<std::uint8_t> written{0x02, 0x01, 0, 0};
  arch::write_field(arch, eflags, written, image);
  CHECK(image[144] == 0x02);
  CHECK(image[145] == 0x01);
  CHECK(image[148] == 0);
}

TEST_CASE("x86_64: the x87 tag word is rebuilt from FXSAVE's abridged tag") {
  const auto& arch = arch::arch_by_name("x86_64");
  arch::RegisterLayout layout(arch, {});
  const auto& ftag = *layout.find_by_name("ftag")->info;
  std::vector<std::uint8_t> image(512, 0);
  // TOP = 7; physical register 7 = st0 holds 1.0 (valid), everything else empty.
  image[3] = 7 << 3;
  image[4] = 0x80;
  image[32 + 7] = 0x80;  // st0 mantissa: integer bit set
  image[32 + 8] = 0xff;  // exponent 0x3fff
  image[32 + 9] = 0x3f;
  std::vector<std::uint8_t> value(4);
  arch::read_field(arch, ftag, image, value);
  unsigned tag_word = value[0] | value[1] << 8;
  CHECK(tag_word == 0x3fff);  // physical 7 valid (00), the rest empty (11)
  std::vector<std::uint8_t> all_empty{0xff, 0xff, 0, 0};
  arch::write_field(arch, ftag, all_empty, image);
  CHECK(image[4] == 0);
}

TEST_CASE("x86_64: writing XSAVE marks x87/SSE/AVX as in use, within XCR0") {
  const auto& arch = arch::arch_by_name("x86_64");
  std::vector<std::uint8_t> image(1024, 0);
  image[464] = 0x7;  // XCR0: x87 | SSE | AVX
  arch.prepare_regset_for_write(arch::X86_64Arch::kFloatRegset, image);
  CHECK(image[512] == 0x7);
  std::vector<std::uint8_t> fxsave_only(512, 0);
  arch.prepare_regset_for_write(arch::X86_64Arch::kFloatRegset, fxsave_only);  // no header: untouched
  CHECK(fxsave_only[0] == 0);
}

TEST_CASE("ppc64: a table that derives a layout, with pc/sp roles and a 4-byte trap") {
  const auto& arch = arch::arch_by_name("ppc64");
  arch::RegisterLayout layout(arch, {});
  CHECK(layout.with_role(arch::RegisterRole::ProgramCounter).info->name == "pc");
  CHECK(layout.with_role(arch::RegisterRole::StackPointer).info->name == "r1");
  CHECK(arch.breakpoint_instruction().size() == 4);
  CHECK(arch.breakpoint_address_from_trap_pc(0x1000) == 0x1000);
  CHECK(xml_registers(layout.target_xml()).size() == layout.entries().size());
}
