#pragma once
// One field of /proc/PID/status ("Tgid", "TracerPid", "Uid", …).
#include <sys/types.h>

#include <string>

namespace ustub {

// The field's value with leading blanks removed; "" when the process or the field is not there.
std::string read_status_field(pid_t pid, const std::string& field);

}  // namespace ustub
