#pragma once
// gdb's "info os": qXfer:osdata:read documents built from /proc, in the
// format of gdb's own Linux osdata (one <item> per row, named <column>s).
#include <optional>
#include <string>
#include <string_view>

namespace ustub {

// The document for `annex` ("" lists the types ustub offers, "processes" the
// processes); nullopt for a type ustub does not offer.
std::optional<std::string> os_data(std::string_view annex);

}  // namespace ustub
