#include "arch/register_layout.hpp"

#include <algorithm>
#include <stdexcept>

#include "arch/target_xml.hpp"

namespace arch {

RegisterLayout::RegisterLayout(const Arch& arch, const std::vector<std::string>& present_optional)
    : arch_(&arch) {
  auto included = [&](std::string_view feature_name) {
    for (const FeatureInfo& f : arch.features()) {
      if (f.name != feature_name) continue;
      if (!f.optional) return true;
      return std::find(present_optional.begin(), present_optional.end(), feature_name) !=
             present_optional.end();
    }
    return false;
  };
  // Numbering follows feature order, then table order within a feature: the
  // same order target.xml lists them in.
  unsigned regnum = 0;
  for (const FeatureInfo& feature : arch.features()) {
    if (!included(feature.name)) continue;
    for (const RegisterInfo& reg : arch.registers()) {
      if (reg.feature != feature.name) continue;
      entries_.push_back({&reg, regnum++, static_cast<unsigned>(g_packet_bytes_)});
      g_packet_bytes_ += reg.bytes();
    }
  }
  target_xml_ = build_target_xml(arch, entries_);
}

const LayoutEntry* RegisterLayout::find(unsigned regnum) const {
  if (regnum >= entries_.size()) return nullptr;
  return &entries_[regnum];
}

const LayoutEntry* RegisterLayout::find_by_name(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.info->name == name) return &e;
  return nullptr;
}

const LayoutEntry* RegisterLayout::find_role(RegisterRole role) const {
  for (const auto& e : entries_)
    if (e.info->role == role) return &e;
  return nullptr;
}

const LayoutEntry& RegisterLayout::with_role(RegisterRole role) const {
  if (const LayoutEntry* e = find_role(role)) return *e;
  throw std::logic_error("register table has no register for a required role");
}

std::vector<const LayoutEntry*> RegisterLayout::expedited() const {
  std::vector<const LayoutEntry*> out;
  for (const auto& e : entries_)
    if (e.info->role == RegisterRole::ProgramCounter || e.info->role == RegisterRole::StackPointer ||
        e.info->role == RegisterRole::FramePointer)
      out.push_back(&e);
  return out;
}

void read_field(const Arch& arch, const RegisterInfo& reg, std::span<const std::uint8_t> image,
                std::span<std::uint8_t> value) {
  if (reg.encoding != FieldEncoding::Plain) {
    arch.decode_special(reg, image, value);
    return;
  }
  std::fill(value.begin(), value.end(), 0);
  std::size_t n = std::min<std::size_t>(reg.regset_bytes(), value.size());
  if (reg.offset + n > image.size()) return;  // a short regset reads as zero
  bool big = arch.endian() == Endian::Big;
  // Narrowing or widening keeps the low-order bytes, whichever end they are at.
  std::size_t src = reg.offset + (big ? reg.regset_bytes() - n : 0);
  std::size_t dst = big ? value.size() - n : 0;
  std::copy_n(image.begin() + static_cast<std::ptrdiff_t>(src), n, value.begin() + static_cast<std::ptrdiff_t>(dst));
}

void write_field(const Arch& arch, const RegisterInfo& reg, std::span<const std::uint8_t> value,
                 std::span<std::uint8_t> image) {
  if (reg.encoding != FieldEncoding::Plain) {
    arch.encode_special(reg, value, image);
    return;
  }
  if (reg.offset + reg.regset_bytes() > image.size()) return;
  auto field = image.subspan(reg.offset, reg.regset_bytes());
  std::fill(field.begin(), field.end(), 0);
  std::size_t n = std::min<std::size_t>(field.size(), value.size());
  bool big = arch.endian() == Endian::Big;
  std::size_t src = big ? value.size() - n : 0;
  std::size_t dst = big ? field.size() - n : 0;
  std::copy_n(value.begin() + static_cast<std::ptrdiff_t>(src), n, field.begin() + static_cast<std::ptrdiff_t>(dst));
}

}  // namespace arch
