#include <stdexcept>

#include "arch/arch.hpp"
#include "arch/ppc64/ppc64_arch.hpp"
#include "arch/x86_64/x86_64_arch.hpp"

namespace arch {

void Arch::decode_special(const RegisterInfo&, std::span<const std::uint8_t>,
                          std::span<std::uint8_t> value) const {
  std::fill(value.begin(), value.end(), 0);
}

void Arch::encode_special(const RegisterInfo&, std::span<const std::uint8_t>,
                          std::span<std::uint8_t>) const {}

void Arch::prepare_regset_for_write(unsigned, std::span<std::uint8_t>) const {}

const Arch& arch_by_name(std::string_view name) {
  static const X86_64Arch x86_64;
  static const Ppc64Arch ppc64le(Endian::Little);
  if (name == "x86_64") return x86_64;
  if (name == "ppc64" || name == "ppc64le") return ppc64le;
  throw std::invalid_argument("unknown architecture " + std::string(name));
}

const Arch& native_arch() {
#if defined(__x86_64__)
  return arch_by_name("x86_64");
#elif defined(__powerpc64__)
  return arch_by_name("ppc64");
#else
#error "ustub supports x86_64 and ppc64 hosts"
#endif
}

}  // namespace arch
