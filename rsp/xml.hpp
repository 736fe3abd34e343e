#pragma once
// Text inside the XML documents the protocol carries (qXfer objects).
#include <string>
#include <string_view>

namespace rsp {
std::string xml_escape(std::string_view text);
}  // namespace rsp
