#pragma once
// Everything derived from one architecture's register table for one process:
// remote register numbers, the 'g' packet layout, expedited registers and
// target.xml. Nothing here is written twice.
#include <optional>
#include <string>
#include <vector>

#include "arch/arch.hpp"

namespace arch {

struct LayoutEntry {
  const RegisterInfo* info;
  unsigned regnum;    // remote register number (position in target.xml)
  unsigned g_offset;  // byte offset in the 'g' packet
};

class RegisterLayout {
 public:
  // `features`: the names of the features this process has (required ones are
  // always included; optional ones only when listed).
  RegisterLayout(const Arch& arch, const std::vector<std::string>& present_optional_features);

  const Arch& arch() const { return *arch_; }
  const std::vector<LayoutEntry>& entries() const { return entries_; }
  const LayoutEntry* find(unsigned regnum) const;
  const LayoutEntry* find_by_name(std::string_view name) const;
  const LayoutEntry& with_role(RegisterRole role) const;
  const LayoutEntry* find_role(RegisterRole role) const;  // nullptr: this architecture has none
  std::size_t g_packet_bytes() const { return g_packet_bytes_; }
  // pc, sp and fp: sent with every stop so gdb needs no 'g' to show a frame.
  std::vector<const LayoutEntry*> expedited() const;
  const std::string& target_xml() const { return target_xml_; }

 private:
  const Arch* arch_;
  std::vector<LayoutEntry> entries_;
  std::size_t g_packet_bytes_ = 0;
  std::string target_xml_;
};

// Regset image <-> register value, honouring field size and encoding.
void read_field(const Arch& arch, const RegisterInfo& reg, std::span<const std::uint8_t> image,
                std::span<std::uint8_t> value);
void write_field(const Arch& arch, const RegisterInfo& reg, std::span<const std::uint8_t> value,
                 std::span<std::uint8_t> image);

}  // namespace arch
