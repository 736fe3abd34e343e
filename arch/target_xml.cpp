#include "arch/target_xml.hpp"

#include "arch/register_layout.hpp"

namespace arch {

std::string build_target_xml(const Arch& arch, const std::vector<LayoutEntry>& entries) {
  std::string xml =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n";
  xml += "<architecture>" + std::string(arch.gdb_architecture()) + "</architecture>\n";
  xml += "<osabi>GNU/Linux</osabi>\n";
  for (const FeatureInfo& feature : arch.features()) {
    bool any = false;
    for (const LayoutEntry& e : entries) {
      if (e.info->feature != feature.name) continue;
      if (!any) {
        xml += "<feature name=\"" + std::string(feature.name) + "\">\n";
        xml += feature.type_definitions;
        any = true;
      }
      xml += "<reg name=\"" + std::string(e.info->name) + "\" bitsize=\"" +
             std::to_string(e.info->bits) + "\" type=\"" + std::string(e.info->type) +
             "\" regnum=\"" + std::to_string(e.regnum) + "\"";
      if (!e.info->group.empty()) xml += " group=\"" + std::string(e.info->group) + "\"";
      xml += "/>\n";
    }
    if (any) xml += "</feature>\n";
  }
  xml += "</target>\n";
  return xml;
}

}  // namespace arch
