#include "rsp/request.hpp"

#include <string_view>

#include "rsp/hex.hpp"

namespace rsp {
namespace {

using namespace std::string_view_literals;

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

// "addr,len" -> pair.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_address_length(std::string_view text) {
  auto comma = text.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  auto address = parse_hex_number(text.substr(0, comma));
  auto length = parse_hex_number(text.substr(comma + 1));
  if (!address || !length) return std::nullopt;
  return std::pair{*address, *length};
}

Request malformed(std::string why) { return req::Malformed{std::move(why)}; }

Request parse_resume_letter(std::string_view p) {
  // c[addr] C sig[;addr] s[addr] S sig[;addr]. Resuming at an address is
  // deprecated and gdb never sends it; we refuse it rather than ignore it.
  char letter = p.front();
  p.remove_prefix(1);
  req::ResumeAction action;
  action.kind = (letter == 'c' || letter == 'C') ? req::ResumeAction::Kind::Continue
                                                 : req::ResumeAction::Kind::Step;
  if (letter == 'C' || letter == 'S') {
    auto semicolon = p.find(';');
    auto signal = parse_hex_number(p.substr(0, semicolon));
    if (!signal || *signal > 255) return malformed("bad signal number");
    action.signal = static_cast<int>(*signal);
    p = semicolon == std::string_view::npos ? std::string_view{} : p.substr(semicolon + 1);
  }
  if (!p.empty()) return malformed("resuming at an address is not supported");
  return req::Resume{{action}};
}

Request parse_vcont(std::string_view p) {
  if (p == "?") return req::VContQuery{};
  if (p.empty() || p.front() != ';') return malformed("vCont needs actions");
  req::Resume resume;
  for (auto item : split(p.substr(1), ';')) {
    if (item.empty()) return malformed("empty vCont action");
    req::ResumeAction action;
    auto colon = item.find(':');
    std::string_view verb = item.substr(0, colon);
    if (verb.empty()) return malformed("vCont action without a verb");
    if (colon != std::string_view::npos) {
      auto thread = parse_thread_id(item.substr(colon + 1));
      if (!thread) return malformed("bad thread id in vCont");
      action.thread = *thread;
    }
    char letter = verb.front();
    std::string_view rest = verb.substr(1);
    switch (letter) {
      case 'c': action.kind = req::ResumeAction::Kind::Continue; break;
      case 's': action.kind = req::ResumeAction::Kind::Step; break;
      case 't': action.kind = req::ResumeAction::Kind::Stop; break;
      case 'C': action.kind = req::ResumeAction::Kind::Continue; break;
      case 'S': action.kind = req::ResumeAction::Kind::Step; break;
      case 'r': action.kind = req::ResumeAction::Kind::RangeStep; break;
      default: return malformed("unsupported vCont action");
    }
    if (letter == 'r') {
      auto comma = rest.find(',');
      auto start = parse_hex_number(rest.substr(0, comma));
      auto end = comma == std::string_view::npos ? std::nullopt : parse_hex_number(rest.substr(comma + 1));
      if (!start || !end) return malformed("bad range in vCont;r");
      action.range_start = *start;
      action.range_end = *end;
    } else if (letter == 'C' || letter == 'S') {
      auto signal = parse_hex_number(rest);
      if (!signal || *signal > 255) return malformed("bad signal in vCont");
      action.signal = static_cast<int>(*signal);
    } else if (!rest.empty()) {
      return malformed("unsupported vCont action");
    }
    resume.actions.push_back(action);
  }
  return resume;
}

Request parse_breakpoint(std::string_view p) {
  bool insert = p.front() == 'Z';
  std::string_view head = p.substr(1, p.find(';') == std::string_view::npos ? std::string_view::npos : p.find(';') - 1);
  auto fields = split(head, ',');
  if (fields.size() != 3) return malformed("breakpoint packet needs type,address,kind");
  auto type = parse_hex_number(fields[0]);
  auto address = parse_hex_number(fields[1]);
  auto kind = parse_hex_number(fields[2]);
  if (!type || *type > 4 || !address || !kind) return malformed("bad breakpoint packet");
  req::Breakpoint bp{insert, static_cast<int>(*type), *address, *kind};
  if (head.size() + 1 >= p.size()) return bp;
  // ";X len,bytes" conditions, then at most one ";cmds:persist,X len,bytes…".
  auto agent_expression = [](std::string_view& text) -> std::optional<std::vector<std::uint8_t>> {
    auto comma = text.find(',');
    if (text.size() < 2 || text.front() != 'X' || comma == std::string_view::npos) return std::nullopt;
    auto length = parse_hex_number(text.substr(1, comma - 1));
    if (!length || *length > (text.size() - comma - 1) / 2) return std::nullopt;
    auto bytes = from_hex(text.substr(comma + 1, 2 * *length));
    if (!bytes) return std::nullopt;
    text.remove_prefix(comma + 1 + 2 * *length);
    return bytes;
  };
  std::string_view rest = p.substr(head.size() + 2);
  if (auto cmds = rest.find("cmds:"); cmds != std::string_view::npos) {
    // The commands' expressions follow one another with no separator.
    std::string_view list = rest.substr(cmds + 5);
    rest = rest.substr(0, cmds);
    auto comma = list.find(',');
    auto persist = parse_hex_number(list.substr(0, comma));
    if (comma == std::string_view::npos || !persist) return malformed("bad breakpoint commands");
    bp.persist = *persist != 0;
    list.remove_prefix(comma + 1);
    while (!list.empty()) {
      auto command = agent_expression(list);
      if (!command) return malformed("bad breakpoint command");
      bp.commands.push_back(std::move(*command));
    }
    if (!rest.empty() && rest.back() == ';') rest.remove_suffix(1);
    if (rest.empty()) return bp;
  }
  for (auto item : split(rest, ';')) {
    auto bytes = agent_expression(item);
    if (!bytes || !item.empty()) return malformed("bad breakpoint condition");
    bp.conditions.push_back(std::move(*bytes));
  }
  return bp;
}

Request parse_xfer(std::string_view p) {
  if (p.starts_with("qXfer:siginfo:write:")) {
    // qXfer:object:write:annex:offset:data — the binary data may hold ':'.
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (int i = 0; i < 5; ++i) {
      std::size_t colon = p.find(':', start);
      if (colon == std::string_view::npos) return malformed("bad qXfer write packet");
      fields.push_back(p.substr(start, colon - start));
      start = colon + 1;
    }
    if (fields[2] != "write") return req::Unknown{};
    auto offset = parse_hex_number(fields[4]);
    if (!offset) return malformed("bad qXfer write offset");
    std::string_view data = p.substr(start);
    return req::XferWrite{std::string(fields[1]), std::string(fields[3]), *offset,
                          std::vector<std::uint8_t>(data.begin(), data.end())};
  }
  // qXfer:object:read:annex:offset,length
  auto fields = split(p, ':');
  if (fields.size() != 5 || fields[0] != "qXfer") return malformed("bad qXfer packet");
  if (fields[2] != "read") return req::Unknown{};
  auto range = parse_address_length(fields[4]);
  if (!range) return malformed("bad qXfer offset/length");
  return req::XferRead{std::string(fields[1]), std::string(fields[3]), range->first, range->second};
}

std::optional<std::int64_t> parse_fd(std::string_view text) {
  auto v = parse_signed_hex_number(text);
  if (!v || *v < 0 || *v > INT32_MAX) return std::nullopt;
  return v;
}

Request parse_vfile(std::string_view p) {
  auto colon = p.find(':');
  if (colon == std::string_view::npos) return malformed("bad vFile packet");
  std::string_view op = p.substr(0, colon);
  std::string_view args = p.substr(colon + 1);
  if (op == "pwrite") {
    // fd,offset,binary-data: the data may contain commas, so split only twice.
    auto first = args.find(',');
    auto second = first == std::string_view::npos ? first : args.find(',', first + 1);
    if (second == std::string_view::npos) return malformed("bad vFile:pwrite");
    auto fd = parse_fd(args.substr(0, first));
    auto offset = parse_hex_number(args.substr(first + 1, second - first - 1));
    if (!fd || !offset) return malformed("bad vFile:pwrite");
    auto data = args.substr(second + 1);
    return req::FilePwrite{*fd, *offset, std::vector<std::uint8_t>(data.begin(), data.end())};
  }
  auto fields = split(args, ',');
  if (op == "open" && fields.size() == 3) {
    auto path = hex_to_text(fields[0]);
    auto flags = parse_hex_number(fields[1]);
    auto mode = parse_hex_number(fields[2]);
    if (!path || !flags || !mode) return malformed("bad vFile:open");
    return req::FileOpen{*path, *flags, *mode};
  }
  if (op == "pread" && fields.size() == 3) {
    auto fd = parse_fd(fields[0]);
    auto count = parse_hex_number(fields[1]);
    auto offset = parse_hex_number(fields[2]);
    if (!fd || !count || !offset) return malformed("bad vFile:pread");
    return req::FilePread{*fd, *count, *offset};
  }
  if ((op == "close" || op == "fstat") && fields.size() == 1) {
    auto fd = parse_fd(fields[0]);
    if (!fd) return malformed("bad vFile fd");
    if (op == "close") return req::FileClose{*fd};
    return req::FileFstat{*fd};
  }
  if ((op == "unlink" || op == "readlink") && fields.size() == 1) {
    auto path = hex_to_text(fields[0]);
    if (!path) return malformed("bad vFile path");
    if (op == "unlink") return req::FileUnlink{*path};
    return req::FileReadlink{*path};
  }
  if (op == "setfs" && fields.size() == 1) {
    auto pid = parse_signed_hex_number(fields[0]);
    if (!pid || *pid < 0) return malformed("bad vFile:setfs");
    return req::FileSetFs{*pid};
  }
  if (op == "open" || op == "pread" || op == "close" || op == "fstat" || op == "unlink" ||
      op == "readlink" || op == "setfs")
    return malformed("bad vFile:" + std::string(op) + " arguments");
  return req::Unknown{};
}

std::optional<std::int64_t> optional_pid_after(std::string_view rest, char separator,
                                               bool& ok) {
  ok = true;
  if (rest.empty()) return std::nullopt;
  if (rest.front() != separator) {
    ok = false;
    return std::nullopt;
  }
  auto pid = parse_signed_hex_number(rest.substr(1));
  if (!pid || *pid <= 0) ok = false;
  return pid;
}

}  // namespace

Request parse(std::string_view p) {
  if (p.empty()) return req::Unknown{};
  switch (p.front()) {
    case '?':
      return p.size() == 1 ? Request{req::HaltReason{}} : malformed("junk after '?'");
    case 'g':
      return p.size() == 1 ? Request{req::ReadRegisters{}} : malformed("junk after 'g'");
    case 'G': {
      auto bytes = from_hex(p.substr(1));
      if (!bytes) return malformed("bad hex in 'G'");
      return req::WriteRegisters{std::move(*bytes)};
    }
    case 'p': {
      auto n = parse_hex_number(p.substr(1));
      if (!n || *n > 0xffff) return malformed("bad register number");
      return req::ReadRegister{static_cast<unsigned>(*n)};
    }
    case 'P': {
      auto eq = p.find('=');
      if (eq == std::string_view::npos) return malformed("'P' needs n=value");
      auto n = parse_hex_number(p.substr(1, eq - 1));
      auto bytes = from_hex(p.substr(eq + 1));
      if (!n || *n > 0xffff || !bytes) return malformed("bad 'P' packet");
      return req::WriteRegister{static_cast<unsigned>(*n), std::move(*bytes)};
    }
    case 'm': {
      auto range = parse_address_length(p.substr(1));
      if (!range) return malformed("bad 'm' packet");
      return req::ReadMemory{range->first, range->second};
    }
    case 'x': {
      auto range = parse_address_length(p.substr(1));
      if (!range) return malformed("bad 'x' packet");
      return req::ReadMemory{range->first, range->second, true};
    }
    case 'M':
    case 'X': {
      auto colon = p.find(':');
      if (colon == std::string_view::npos) return malformed("memory write needs ':'");
      auto range = parse_address_length(p.substr(1, colon - 1));
      if (!range) return malformed("bad memory write address or length");
      std::string_view data = p.substr(colon + 1);
      std::vector<std::uint8_t> bytes;
      if (p.front() == 'M') {
        auto decoded = from_hex(data);
        if (!decoded) return malformed("bad hex in 'M'");
        bytes = std::move(*decoded);
      } else {
        bytes.assign(data.begin(), data.end());
      }
      if (bytes.size() != range->second) return malformed("memory write length mismatch");
      return req::WriteMemory{range->first, std::move(bytes)};
    }
    case 'c':
    case 'C':
    case 's':
    case 'S':
      return parse_resume_letter(p);
    case 'Z':
    case 'z':
      return parse_breakpoint(p);
    case 'H': {
      if (p.size() < 3) return malformed("bad 'H' packet");
      auto thread = parse_thread_id(p.substr(2));
      if (!thread) return malformed("bad thread id");
      return req::SetThread{p[1], *thread};
    }
    case 'T': {
      auto thread = parse_thread_id(p.substr(1));
      if (!thread) return malformed("bad thread id");
      return req::ThreadAlive{*thread};
    }
    case 'D': {
      bool ok;
      auto pid = optional_pid_after(p.substr(1), ';', ok);
      if (!ok) return malformed("bad 'D' packet");
      return req::Detach{pid};
    }
    case 'k':
      return req::Kill{};
    case 'R':
      return req::Restart{};
    default:
      break;
  }
  if (p == "QStartNoAckMode") return req::StartNoAckMode{};
  if (p == "qSupported") return req::QuerySupported{};
  if (p.starts_with("qSupported:")) {
    req::QuerySupported q;
    for (auto f : split(p.substr(11), ';')) q.gdb_features.emplace_back(f);
    return q;
  }
  if (p == "qC") return req::CurrentThread{};
  if (p == "qHostInfo") return req::HostInfo{};
  if (p == "qfThreadInfo") return req::ThreadInfoFirst{};
  if (p == "qsThreadInfo") return req::ThreadInfoNext{};
  if (p.starts_with("qAttached")) {
    bool ok;
    auto pid = optional_pid_after(p.substr(9), ':', ok);
    if (!ok) return malformed("bad qAttached packet");
    return req::Attached{pid};
  }
  if (p.starts_with("qSymbol:")) return req::Symbol{};
  if (p.starts_with("qGetTLSAddr:")) {
    auto fields = split(p.substr(12), ',');
    if (fields.size() != 3) return malformed("qGetTLSAddr wants thread,offset,link_map");
    auto thread = parse_thread_id(fields[0]);
    auto offset = parse_hex_number(fields[1]);
    auto link_map = parse_hex_number(fields[2]);
    if (!thread || thread->tid <= 0 || !offset || !link_map) return malformed("bad qGetTLSAddr packet");
    return req::TlsAddress{*thread, *offset, *link_map};
  }
  if (p.starts_with("qXfer:")) return parse_xfer(p);
  if (p.starts_with("vCont")) return parse_vcont(p.substr(5));
  if (p == "vCtrlC") return req::CtrlC{};
  if (p.starts_with("vKill;")) {
    auto pid = parse_signed_hex_number(p.substr(6));
    if (!pid || *pid <= 0) return malformed("bad vKill packet");
    return req::Kill{*pid};
  }
  if (p.starts_with("vFile:")) return parse_vfile(p.substr(6));
  if (p.starts_with("qRcmd,")) {
    auto bytes = from_hex(p.substr(6));
    if (!bytes) return malformed("bad hex in qRcmd");
    return req::MonitorCommand{std::string(bytes->begin(), bytes->end())};
  }
  if (p == "!") return req::ExtendedMode{};
  if (p.starts_with("QPassSignals:") || p.starts_with("QProgramSignals:")) {
    req::SignalSet set{p.starts_with("QPass"), {}};
    std::string_view list = p.substr(p.find(':') + 1);
    for (auto field : split(list, ';')) {
        if (field.empty()) continue;  // gdb ends the list with ';'
        auto n = parse_hex_number(field);
        if (!n || *n > 1000) return malformed("bad signal number");
        set.gdb_signals.push_back(static_cast<int>(*n));
      }
    return set;
  }
  if (p == "QEnvironmentReset") return req::EnvironmentReset{};
  if (p.starts_with("QEnvironmentHexEncoded:") || p.starts_with("QEnvironmentUnset:") ||
      p.starts_with("QSetWorkingDir:")) {
    auto bytes = from_hex(p.substr(p.find(':') + 1));
    if (!bytes) return malformed("bad hex in " + std::string(p.substr(0, p.find(':'))));
    std::string text(bytes->begin(), bytes->end());
    if (p.starts_with("QSetWorkingDir:")) return req::SetWorkingDir{text};
    if (text.empty() || text.front() == '=') return malformed("an environment variable needs a name");
    if (p.starts_with("QEnvironmentUnset:")) return req::EnvironmentUnset{text};
    return req::EnvironmentSet{text};
  }
  if (p.starts_with("QStartupWithShell:") || p.starts_with("QDisableRandomization:")) {
    std::string_view value = p.substr(p.find(':') + 1);
    if (value != "0" && value != "1") return malformed(std::string(p.substr(0, p.find(':'))) + " takes 0 or 1");
    if (p.starts_with("QStartupWithShell:")) return req::StartupWithShell{value == "1"};
    return req::DisableRandomization{value == "1"};
  }
  if (p.starts_with("QNonStop:")) {
    std::string_view value = p.substr(9);
    if (value != "0" && value != "1") return malformed("QNonStop takes 0 or 1");
    return req::NonStop{value == "1"};
  }
  if (p == "vStopped") return req::StopAck{};
  if (p.starts_with("QThreadEvents:")) {
    std::string_view value = p.substr(14);
    if (value != "0" && value != "1") return malformed("QThreadEvents takes 0 or 1");
    return req::ThreadEvents{value == "1"};
  }
  if (p.starts_with("QCatchSyscalls:")) {
    auto fields = split(p.substr(15), ';');
    if (fields.empty() || (fields[0] != "0" && fields[0] != "1")) return malformed("QCatchSyscalls takes 0 or 1");
    req::CatchSyscalls c{fields[0] == "1", {}};
    if (!c.enable && fields.size() > 1) return malformed("QCatchSyscalls:0 takes no list");
    for (std::size_t i = 1; i < fields.size(); ++i) {
      auto n = parse_hex_number(fields[i]);
      if (!n || *n > 0xffff) return malformed("bad syscall number");
      c.numbers.push_back(static_cast<int>(*n));
    }
    return c;
  }
  if (p.starts_with("vRun;")) {
    req::Run run;
    for (auto field : split(p.substr(5), ';')) {
      auto bytes = from_hex(field);
      if (!bytes) return malformed("bad hex in vRun");
      run.argv.emplace_back(bytes->begin(), bytes->end());
    }
    if (run.argv.empty()) run.argv.emplace_back();
    return run;
  }
  if (p.starts_with("vAttach;")) {
    auto pid = parse_hex_number(p.substr(8));
    if (!pid || *pid == 0 || *pid > 0x3fffffff) return malformed("bad vAttach pid");
    return req::AttachTo{static_cast<std::int64_t>(*pid)};
  }
  return req::Unknown{};
}

}  // namespace rsp
