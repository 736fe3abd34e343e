#pragma once
// Thread ids: "p<pid>.<tid>", "p<pid>", "<tid>", with -1 = all and 0 = any.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rsp {

struct ThreadId {
  static constexpr std::int64_t kAll = -1;
  static constexpr std::int64_t kAny = 0;
  std::int64_t pid = kAll;  // kAll when the syntax had no 'p' part
  std::int64_t tid = kAll;

  bool matches(std::int64_t process, std::int64_t thread) const {
    bool pid_ok = pid == kAll || pid == kAny || pid == process;
    bool tid_ok = tid == kAll || tid == kAny || tid == thread;
    return pid_ok && tid_ok;
  }
  bool operator==(const ThreadId&) const = default;
};

std::optional<ThreadId> parse_thread_id(std::string_view text);
std::string format_thread_id(std::int64_t pid, std::int64_t tid);

}  // namespace rsp
