#include "server/session.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>

#include "rsp/binary.hpp"
#include "rsp/hex.hpp"
#include "rsp/stop_reply.hpp"
#include "rsp/xml.hpp"
#include "server/auxv.hpp"
#include "server/os_data.hpp"
#include "server/signals.hpp"
#include "server/svr4_libraries.hpp"
#include "server/thread_local_storage.hpp"

namespace ustub {

namespace {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;  // clang 14 does not deduce it for aggregates

// The CPU a thread last ran on: field 39 of /proc/PID/task/TID/stat.
int last_cpu(pid_t pid, pid_t tid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat").c_str(), "r");
  if (!f) return -1;
  char buf[1024] = {};
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string_view stat(buf, n);
  auto paren = stat.rfind(')');  // the name may hold spaces
  if (paren == std::string_view::npos) return -1;
  int field = 2;
  for (std::size_t i = paren + 1; i < stat.size(); ++i) {
    if (stat[i] != ' ') continue;
    if (++field == 39) return std::atoi(stat.data() + i + 1);
  }
  return -1;
}

std::string error_text(std::string_view message) {
  // Replies are not escaped: keep the message free of framing characters.
  std::string out = "E.";
  for (char c : message) out.push_back((c == '$' || c == '#' || c == '*' || c == '}') ? '_' : c);
  return out;
}

std::string errno_text(int e) { return error_text(std::strerror(e)); }

constexpr std::string_view kMemoryError = "E01";  // gdb wants "Exx" from 'm'

// How lldb sorts a reply before it looks at it as data: "OK", and "Exx" or
// "Exx;text", are answers, whatever the packet asked.
bool reads_as_lldb_status(std::string_view reply) {
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  if (reply == "OK") return true;
  return reply.size() >= 3 && reply[0] == 'E' && hex(reply[1]) && hex(reply[2]) && (reply.size() == 3 || reply[3] == ';');
}

std::string read_link(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

Session::Session(Engine& engine, std::function<void(std::string_view)> send, SessionHooks hooks,
                 DisabledPackets disabled, const std::string& host_root)
    : engine_(engine),
      send_(std::move(send)),
      hooks_(std::move(hooks)),
      disabled_(disabled),
      host_io_(kReplyDataLimit, host_root) {}

void Session::send_packet(std::string_view payload) {
  last_frame_ = rsp::frame(payload);
  send_(last_frame_);
}

void Session::on_bytes(std::string_view bytes) {
  std::vector<rsp::InboundEvent> events;
  decoder_.feed(bytes, events);
  for (auto& event : events) {
    switch (event.kind) {
      case rsp::InboundEvent::Kind::Ack:
        break;
      case rsp::InboundEvent::Kind::Nack:
        if (!no_ack_ && !last_frame_.empty()) send_(last_frame_);
        break;
      case rsp::InboundEvent::Kind::Interrupt:
        request_interrupt();
        break;
      case rsp::InboundEvent::Kind::BadChecksum:
        if (!no_ack_) send_("-");
        else send_packet("E.bad checksum");
        break;
      case rsp::InboundEvent::Kind::Oversize:
        if (!no_ack_) send_("+");
        send_packet("E.packet too long");
        break;
      case rsp::InboundEvent::Kind::Packet:
        if (!no_ack_) send_("+");
        handle_packet(event.payload);
        break;
    }
  }
}

void Session::handle_packet(const std::string& payload) {
  rsp::Request request = rsp::parse(payload);
  if (const auto* read = std::get_if<rsp::req::ReadMemory>(&request); read && answer_from_read_ahead(*read)) return;
  read_ahead_.reset();
  bool enable_no_ack = std::holds_alternative<rsp::req::StartNoAckMode>(request);
  last_read_delivered_ = 0;
  if (auto reply = dispatch(request)) send_packet(*reply);
  if (const auto* read = std::get_if<rsp::req::ReadMemory>(&request)) read_ahead_after(*read, last_read_delivered_);
  // The OK to QStartNoAckMode is itself still acknowledged.
  if (enable_no_ack) no_ack_ = true;
}

std::optional<std::string> Session::dispatch(const rsp::Request& request) {
  namespace r = rsp::req;
  bool unattended = holds_unattended();
  bool attached = engine_.has_process() && !unattended;
  auto need_process = [&]() -> std::optional<std::string> {
    if (!attached) return error_text("no process");
    if (waiting_for_stop_) return error_text("the process is running");
    return std::nullopt;
  };
  return std::visit(
      overloaded{
          [&](const r::QuerySupported& q) -> std::optional<std::string> { return supported(q); },
          [&](const r::StartNoAckMode&) -> std::optional<std::string> { return "OK"; },
          [&](const r::SignalSet& q) -> std::optional<std::string> {
            std::set<int> host;
            for (int s : q.gdb_signals)
              if (int h = gdb_to_host_signal(s)) host.insert(h);
            // QProgramSignals: what a detach may still deliver (gdb never
            // resumes with a signal it keeps from the program).
            if (q.pass)
              engine_.set_pass_signals(std::move(host));
            else
              engine_.set_program_signals(std::move(host));
            return "OK";
          },
          [&](const r::EnvironmentReset&) -> std::optional<std::string> {
            inferior_settings_.reset_environment();
            return "OK";
          },
          [&](const r::EnvironmentSet& q) -> std::optional<std::string> {
            inferior_settings_.set_variable(q.assignment);
            return "OK";
          },
          [&](const r::EnvironmentUnset& q) -> std::optional<std::string> {
            inferior_settings_.unset_variable(q.name);
            return "OK";
          },
          [&](const r::SetWorkingDir& q) -> std::optional<std::string> {
            inferior_settings_.working_directory = q.path;
            return "OK";
          },
          [&](const r::StartupWithShell& q) -> std::optional<std::string> {
            inferior_settings_.startup_with_shell = q.enable;
            return "OK";
          },
          [&](const r::DisableRandomization& q) -> std::optional<std::string> {
            inferior_settings_.disable_randomization = q.enable;
            return "OK";
          },
          [&](const r::ThreadEvents& q) -> std::optional<std::string> {
            engine_.set_report_thread_events(q.enable);
            return "OK";
          },
          [&](const r::NonStop& q) -> std::optional<std::string> {
            non_stop_ = q.enable;
            engine_.set_non_stop(q.enable);
            notifications_.clear();
            return "OK";
          },
          [&](const r::StopAck&) -> std::optional<std::string> { return next_notification(); },
          [&](const r::CatchSyscalls& q) -> std::optional<std::string> {
            engine_.set_catch_syscalls(q.enable, std::set<long>(q.numbers.begin(), q.numbers.end()));
            return "OK";
          },
          [&](const r::HaltReason&) -> std::optional<std::string> {
            if (unattended) return non_stop_ ? "OK" : "W00";
            if (non_stop_) return halt_reasons_non_stop();
            if (unreported_exit_) return report_unreported_exit();
            EngineStop stop = engine_.last_stop();
            // The thread of the last stop may be gone since (its process killed
            // or detached while others stay): a reconnecting gdb must be named
            // a thread that exists.
            bool about_a_thread = !stop.process_ended() && stop.kind != EngineStop::Kind::NoResumed;
            if (engine_.has_process() && (!about_a_thread || !engine_.thread_alive(stop.tid))) {
              auto ids = engine_.thread_ids();
              if (!ids.empty()) stop = EngineStop{EngineStop::Kind::Signal, ids.front(), SIGTRAP};
            }
            return stop_reply(stop);
          },
          [&](const r::ReadRegisters&) -> std::optional<std::string> {
            if (auto e = need_process()) return e;
            return read_registers();
          },
          [&](const r::WriteRegisters& q) -> std::optional<std::string> {
            if (auto e = need_process()) return e;
            return write_registers(q);
          },
          [&](const r::ReadRegister& q) -> std::optional<std::string> {
            if (auto e = need_process()) return e;
            return read_register(q);
          },
          [&](const r::WriteRegister& q) -> std::optional<std::string> {
            if (auto e = need_process()) return e;
            return write_register(q);
          },
          [&](const r::ReadMemory& q) -> std::optional<std::string> {
            if (!attached || waiting_for_stop_) return std::string(kMemoryError);
            return read_memory(q, &last_read_delivered_);
          },
          [&](const r::WriteMemory& q) -> std::optional<std::string> {
            if (!attached || waiting_for_stop_) return std::string(kMemoryError);
            return write_memory(q);
          },
          [&](const r::Resume& q) -> std::optional<std::string> {
            if (unreported_exit_) return report_unreported_exit();
            if (unattended) return "W00";
            // Thread exits and then the process's own may be queued untold
            // after the process left the engine: the resume tells the next.
            if (!engine_.has_untold_events() || waiting_for_stop_)
              if (auto e = need_process()) return e;
            return resume(q);
          },
          [&](const r::VContQuery&) -> std::optional<std::string> {
            if (disabled_.vcont) return "";
            return "vCont;c;C;s;S;t;r";
          },
          [&](const r::Breakpoint& q) -> std::optional<std::string> {
            if (auto e = need_process()) return e;
            return breakpoint(q);
          },
          [&](const r::XferRead& q) -> std::optional<std::string> { return xfer(q); },
          [&](const r::XferWrite& q) -> std::optional<std::string> {
            if (q.object != "siginfo") return "";
            if (auto e = need_process()) return e;
            long n = engine_.write_siginfo(selected_thread(general_thread_), q.offset, q.data);
            if (n < 0) return errno_text(static_cast<int>(-n));
            return rsp::number_to_hex(static_cast<std::uint64_t>(n));
          },
          [&](const r::SetThread& q) -> std::optional<std::string> { return set_thread(q); },
          [&](const r::CurrentThread&) -> std::optional<std::string> {
            if (disabled_.qc) return "";
            if (!attached) return error_text("no process");
            return "QC" + thread_id(selected_thread(general_thread_));
          },
          [&](const r::ThreadAlive& q) -> std::optional<std::string> {
            pid_t tid = static_cast<pid_t>(q.thread.tid);
            bool alive = attached && q.thread.tid > 0 && engine_.thread_alive(tid) &&
                         q.thread.matches(engine_.process_of(tid), tid);
            return alive ? "OK" : error_text("no such thread");
          },
          [&](const r::ThreadInfoFirst&) -> std::optional<std::string> {
            if (disabled_.qf_thread_info) return "";
            if (!attached) return "l";
            std::string out = "m";
            for (pid_t tid : engine_.thread_ids()) {
              if (out.size() > 1) out += ',';
              out += thread_id(tid);
            }
            return out;
          },
          [&](const r::ThreadInfoNext&) -> std::optional<std::string> {
            if (disabled_.qf_thread_info) return "";
            return "l";
          },
          [&](const r::Attached& q) -> std::optional<std::string> {
            pid_t pid = q.pid ? static_cast<pid_t>(*q.pid) : engine_.pid();
            if (!attached || !engine_.has_process(pid)) return error_text("no such process");
            return engine_.launched(pid) ? "0" : "1";
          },
          [&](const r::Detach& q) -> std::optional<std::string> {
            if (!attached || (q.pid && !engine_.has_process(static_cast<pid_t>(*q.pid))))
              return error_text("no such process");
            waiting_for_stop_ = false;
            // "D;PID" lets one process go (a fork child gdb does not follow, or
            // the parent it leaves); the others stay.
            std::vector<pid_t> pids = q.pid ? std::vector<pid_t>{static_cast<pid_t>(*q.pid)} : engine_.process_ids();
            for (pid_t pid : pids) {
              bool launched = engine_.launched(pid);
              forget_notifications_of(pid);
              if (hooks_.keep_running && hooks_.keep_running(pid)) continue;
              engine_.detach(pid);
              if (hooks_.detached) hooks_.detached(pid, launched);
            }
            if (!extended_ && !engine_.has_process()) outcome_ = Outcome::Detached;
            return "OK";
          },
          [&](const r::Kill& q) -> std::optional<std::string> {
            if (attached && q.pid && engine_.has_process(static_cast<pid_t>(*q.pid)) &&
                engine_.process_ids().size() > 1) {
              forget_notifications_of(static_cast<pid_t>(*q.pid));
              engine_.kill(static_cast<pid_t>(*q.pid));  // one of several: the others stay
              return std::string("OK");
            }
            if (attached && (!q.pid || engine_.has_process(static_cast<pid_t>(*q.pid)))) {
              waiting_for_stop_ = false;
              forget_notifications_of(0);
              engine_.kill();
            }
            unreported_exit_.reset();
            if (!extended_) outcome_ = Outcome::Killed;
            // 'k' has no reply; vKill has one.
            if (q.pid) return std::string("OK");
            return std::nullopt;
          },
          [&](const r::Symbol&) -> std::optional<std::string> { return "OK"; },
          [&](const r::TlsAddress& q) -> std::optional<std::string> {
            if (auto e = need_process()) return e;
            return thread_local_address(q);
          },
          [&](const r::CtrlC&) -> std::optional<std::string> {
            request_interrupt();
            return "OK";
          },
          [&](const r::FileOpen& q) -> std::optional<std::string> { return host_io_.open(q); },
          [&](const r::FilePread& q) -> std::optional<std::string> { return host_io_.pread(q); },
          [&](const r::FilePwrite& q) -> std::optional<std::string> { return host_io_.pwrite(q); },
          [&](const r::FileClose& q) -> std::optional<std::string> { return host_io_.close(q); },
          [&](const r::FileFstat& q) -> std::optional<std::string> { return host_io_.fstat(q); },
          [&](const r::FileUnlink& q) -> std::optional<std::string> { return host_io_.unlink(q); },
          [&](const r::FileReadlink& q) -> std::optional<std::string> { return host_io_.readlink(q); },
          [&](const r::FileSetFs& q) -> std::optional<std::string> { return host_io_.setfs(q); },
          [&](const r::MonitorCommand& q) -> std::optional<std::string> { return monitor(q.command); },
          [&](const r::ExtendedMode&) -> std::optional<std::string> {
            extended_ = true;
            return "OK";
          },
          [&](const r::Run& q) -> std::optional<std::string> { return run(q); },
          [&](const r::AttachTo& q) -> std::optional<std::string> { return attach(q); },
          [&](const r::Restart&) -> std::optional<std::string> {
            if (!extended_ || !hooks_.run) return "";  // plain remote: not understood
            if (engine_.has_process()) {
              waiting_for_stop_ = false;
              engine_.kill();
            }
            // No reply: gdb asks '?' next. A failure shows there as "no process".
            hooks_.run({}, inferior_settings_);
            return std::nullopt;
          },
          [&](const r::Malformed& q) -> std::optional<std::string> { return error_text(q.why); },
          [&](const r::HostInfo&) -> std::optional<std::string> {
            // Only lldb asks. It expects lldb-server's breakpoint stops, with
            // the pc at the breakpoint, and never moves it back itself as gdb
            // does when swbreak+ is not agreed: without this it resumes one byte
            // into the instruction under its breakpoint (gdbserver's fate).
            engine_.set_rewind_pc_at_breakpoints(true);
            return "";  // lldb then reads the target from the program file
          },
          [&](const r::Unknown&) -> std::optional<std::string> { return ""; },
      },
      request);
}

std::string Session::supported(const rsp::req::QuerySupported& q) {
  auto offered = [&](std::string_view f) {
    return std::find(q.gdb_features.begin(), q.gdb_features.end(), f) != q.gdb_features.end();
  };
  multiprocess_ = offered("multiprocess+");
  bool swbreak = offered("swbreak+");
  // Fork children are named "pPID.TID" and detached with "D;PID": multiprocess only.
  bool fork_events = multiprocess_ && offered("fork-events+");
  bool vfork_events = multiprocess_ && offered("vfork-events+");
  engine_.set_report_fork_events(fork_events, vfork_events);
  exec_events_ = offered("exec-events+");
  hwbreak_ = offered("hwbreak+");
  engine_.set_rewind_pc_at_breakpoints(swbreak);
  std::string out = "PacketSize=" + rsp::number_to_hex(kPacketSize);
  out += ";QStartNoAckMode+;qXfer:features:read+;qXfer:auxv:read+;qXfer:libraries-svr4:read+";
  out += ";qXfer:exec-file:read+;qXfer:threads:read+;qXfer:siginfo:read+;qXfer:siginfo:write+;vContSupported+;QPassSignals+;QProgramSignals+;qXfer:osdata:read+";
  out += ";QThreadEvents+;QCatchSyscalls+;QNonStop+;binary-upload+";
  // Commands hang on conditions: without target-side conditions, gdb sends
  // the commands of a breakpoint whose condition it judges itself.
  if (!disabled_.conditional_breakpoints) out += ";ConditionalBreakpoints+;BreakpointCommands+";
  if (hooks_.run)
    out += ";QEnvironmentHexEncoded+;QEnvironmentUnset+;QEnvironmentReset+;QSetWorkingDir+;QStartupWithShell+"
           ";QDisableRandomization+";
  if (multiprocess_) out += ";multiprocess+";
  if (swbreak) out += ";swbreak+";
  if (hwbreak_) out += ";hwbreak+";
  if (exec_events_) out += ";exec-events+";
  if (fork_events) out += ";fork-events+";
  if (vfork_events) out += ";vfork-events+";
  if (offered("no-resumed+")) out += ";no-resumed+";
  return out;
}

std::string Session::thread_id(pid_t tid) const {
  if (multiprocess_) {
    pid_t pid = engine_.process_of(tid);
    return rsp::format_thread_id(pid ? pid : engine_.pid(), tid);
  }
  return rsp::number_to_hex(static_cast<std::uint64_t>(tid));
}

pid_t Session::selected_process() const {
  if (general_thread_.pid > 0 && engine_.has_process(static_cast<pid_t>(general_thread_.pid)))
    return static_cast<pid_t>(general_thread_.pid);
  pid_t pid = engine_.process_of(selected_thread(general_thread_));
  return pid ? pid : engine_.pid();
}

pid_t Session::selected_thread(const rsp::ThreadId& selector) const {
  if (selector.tid > 0 && engine_.thread_alive(static_cast<pid_t>(selector.tid)))
    return static_cast<pid_t>(selector.tid);
  // "any" (or a thread that is gone): the one that reported the last stop.
  pid_t last = engine_.last_stop().tid;
  if (engine_.thread_alive(last)) return last;
  auto ids = engine_.thread_ids();
  return ids.empty() ? 0 : ids.front();
}

std::string Session::stop_reply(const EngineStop& stop) {
  rsp::StopReply reply;
  // A stop made here (a Ctrl-C held for the next resume) names no process:
  // it is the thread's own, never simply the first one's.
  pid_t owner = stop.pid ? stop.pid : engine_.process_of(stop.tid);
  reply.pid = owner ? owner : engine_.has_process() ? engine_.pid() : stop.tid;
  reply.tid = stop.tid;
  switch (stop.kind) {
    case EngineStop::Kind::Exited:
      reply.kind = rsp::StopReply::Kind::Exited;
      reply.value = stop.exit_code;
      break;
    case EngineStop::Kind::Terminated:
      reply.kind = rsp::StopReply::Kind::Terminated;
      reply.value = host_to_gdb_signal(stop.host_signal);
      break;
    case EngineStop::Kind::NoResumed:
      return "N";
    case EngineStop::Kind::ThreadExited:
      reply.kind = rsp::StopReply::Kind::ThreadExited;
      reply.value = stop.exit_code;
      break;
    case EngineStop::Kind::Exec:
    case EngineStop::Kind::Forked:
    case EngineStop::Kind::VForked:
    case EngineStop::Kind::VForkDone:
    case EngineStop::Kind::ThreadCreated:
    case EngineStop::Kind::SyscallEntry:
    case EngineStop::Kind::SyscallReturn:
    case EngineStop::Kind::Signal: {
      if (!engine_.has_process()) return "W00";
      reply.value = host_to_gdb_signal(stop.host_signal);
      if (stop.kind == EngineStop::Kind::ThreadCreated) reply.reason = "create";
      if (stop.kind == EngineStop::Kind::Forked || stop.kind == EngineStop::Kind::VForked) {
        reply.reason = stop.kind == EngineStop::Kind::Forked ? "fork" : "vfork";
        reply.reason_value = rsp::format_thread_id(stop.child_pid, stop.child_pid);
      }
      if (stop.kind == EngineStop::Kind::VForkDone) reply.reason = "vforkdone";
      if (stop.kind == EngineStop::Kind::Exec && exec_events_) {
        // gdb loads the new program from this path (through vFile when it is remote).
        std::string path = read_link("/proc/" + std::to_string(reply.pid) + "/exe");
        reply.reason = "exec";
        reply.reason_value = rsp::to_hex(path);
      }
      if (stop.kind == EngineStop::Kind::SyscallEntry || stop.kind == EngineStop::Kind::SyscallReturn) {
        reply.reason = stop.kind == EngineStop::Kind::SyscallEntry ? "syscall_entry" : "syscall_return";
        reply.reason_value = rsp::number_to_hex(static_cast<std::uint64_t>(stop.syscall_number));
      }
      if (stop.software_breakpoint) reply.reason = "swbreak";
      if (stop.hardware_hit) {
        switch (stop.hardware_hit->kind) {
          case arch::WatchKind::Execute: reply.reason = hwbreak_ ? "hwbreak" : ""; break;
          case arch::WatchKind::Write: reply.reason = "watch"; break;
          case arch::WatchKind::Read: reply.reason = "rwatch"; break;
          case arch::WatchKind::Access: reply.reason = "awatch"; break;
        }
        if (stop.hardware_hit->kind != arch::WatchKind::Execute)
          reply.reason_value = rsp::number_to_hex(stop.hardware_hit->address);
      }
      std::vector<std::uint8_t> value;
      for (const arch::LayoutEntry* e : engine_.layout().expedited())
        if (engine_.read_register(stop.tid, e->regnum, value))
          reply.registers.emplace_back(e->regnum, rsp::to_hex(value));
      break;
    }
  }
  reply.with_thread = !disabled_.t_thread;
  reply.bare_signal = disabled_.t_stop_reply;
  return rsp::build_stop_reply(reply, multiprocess_);
}

// gdb's Ctrl-C must stop the program once, whatever races it: gdbserver sends
// a real SIGINT, which waits in the kernel. We stop threads without a signal
// (PTRACE_INTERRUPT), so the interrupt is remembered until a SIGINT stop has
// been reported: when another event (a step's end, a breakpoint) wins the
// race, or the Ctrl-C comes between a stop reply and the next resume, the
// next resume reports SIGINT at once instead of running.
void Session::request_interrupt() {
  if (!engine_.has_process()) return;
  if (non_stop_) return engine_.interrupt();  // told by a notification, like any stop
  interrupt_pending_ = true;
  if (waiting_for_stop_) engine_.interrupt();
}

void Session::on_engine_stop(const EngineStop& stop) {
  read_ahead_.reset();  // something happened: what was read may be stale
  if (non_stop_) return notify(stop);
  bool gone = stop.process_ended();
  if (gone || stop.host_signal == SIGINT) interrupt_pending_ = false;
  if (!waiting_for_stop_) {
    // Killed from outside while gdb looks at it stopped: gdb hears of it at
    // its next resume or '?', as if the death had happened then.
    if (gone) unreported_exit_ = stop;
    return;
  }
  waiting_for_stop_ = false;
  if (gone && !extended_ && !engine_.has_process()) outcome_ = Outcome::ProcessExited;
  general_thread_ = {rsp::ThreadId::kAll, gone ? rsp::ThreadId::kAny : stop.tid};
  send_packet(stop_reply(stop));
}

// Non-stop: every stop is queued; the first of a queue goes out at once as a
// "%Stop:" notification, the rest one per vStopped (gdb's flow control).
void Session::notify(const EngineStop& stop) {
  if (stop.kind == EngineStop::Kind::NoResumed) return;  // non-stop gdb never waits for "all"
  bool was_empty = notifications_.empty();
  pid_t pid = stop.pid ? stop.pid : engine_.process_of(stop.tid);
  // Its threads' stops still queued are void once the process is gone.
  if (stop.process_ended()) forget_notifications_of(pid);
  bool of_thread = !stop.process_ended() && stop.kind != EngineStop::Kind::ThreadExited;
  notifications_.push_back({pid, stop_reply(stop), of_thread ? stop.tid : 0});
  if (was_empty) send_(rsp::notification_frame("Stop:" + notifications_.front().reply));
}

std::string Session::next_notification() {
  if (!notifications_.empty()) notifications_.pop_front();
  // A stop of a thread that has gone since is void (gdbserver drops those too).
  while (!notifications_.empty() && notifications_.front().tid && !engine_.thread_alive(notifications_.front().tid))
    notifications_.pop_front();
  if (!notifications_.empty()) return notifications_.front().reply;
  // Non-stop keeps the connection after the last exit, as gdbserver does:
  // gdb may still be printing the other inferiors' exits; it disconnects.
  return "OK";
}

// Non-stop '?': the stop of one stopped thread (the last to report, else the
// first), as gdbserver gives it; "OK" when none is stopped. The other stopped
// threads gdb takes for running, and hears of when it stops them (vCont;t).
// One reply only: gdb 13 asserts (remote.c, wait) when its first '?' brings
// it several.
std::string Session::halt_reasons_non_stop() {
  notifications_.clear();
  if (unreported_exit_) {
    notifications_.push_back({0, report_unreported_exit()});
    return notifications_.front().reply;
  }
  const EngineStop& last = engine_.last_stop();
  std::optional<EngineStop> told;
  for (pid_t tid : engine_.thread_ids()) {
    if (!engine_.thread_stopped(tid)) continue;
    bool last_stop_of_it = tid == last.tid && !last.process_ended() && last.kind != EngineStop::Kind::NoResumed;
    if (last_stop_of_it || !told) told = last_stop_of_it ? last : EngineStop{EngineStop::Kind::Signal, tid, 0};
    engine_.stop_told(tid, false);
  }
  if (!told) return "OK";
  engine_.stop_told(told->tid, true);
  notifications_.push_back({engine_.process_of(told->tid), stop_reply(*told)});
  return notifications_.front().reply;
}

// A process detached or killed: its queued stops are void — all but the one
// already sent, which gdb's vStopped will take.
void Session::forget_notifications_of(pid_t pid) {
  if (notifications_.size() < 2) return;
  auto first = std::next(notifications_.begin());
  notifications_.erase(std::remove_if(first, notifications_.end(),
                                      [pid](const Notification& n) { return pid == 0 || n.pid == pid; }),
                       notifications_.end());
}

std::string Session::read_registers() {
  pid_t tid = selected_thread(general_thread_);
  const auto& layout = engine_.layout();
  std::string out;
  out.reserve(layout.g_packet_bytes() * 2);
  std::vector<std::uint8_t> value;
  for (const auto& e : layout.entries()) {
    if (engine_.read_register(tid, e.regnum, value))
      rsp::append_hex(out, value);
    else
      out.append(e.info->bytes() * 2, 'x');  // unavailable
  }
  return out;
}

std::string Session::write_registers(const rsp::req::WriteRegisters& r) {
  pid_t tid = selected_thread(general_thread_);
  const auto& layout = engine_.layout();
  if (r.bytes.size() > layout.g_packet_bytes()) return error_text("'G' packet too long");
  for (const auto& e : layout.entries()) {
    if (e.g_offset + e.info->bytes() > r.bytes.size()) break;
    std::span value(r.bytes.data() + e.g_offset, e.info->bytes());
    if (!engine_.write_register(tid, e.regnum, value))
      return error_text("cannot write register " + std::string(e.info->name));
  }
  return "OK";
}

std::string Session::read_register(const rsp::req::ReadRegister& r) {
  const auto* e = engine_.layout().find(r.regnum);
  if (!e) return error_text("no such register");
  std::vector<std::uint8_t> value;
  if (!engine_.read_register(selected_thread(general_thread_), r.regnum, value))
    return std::string(e->info->bytes() * 2, 'x');
  return rsp::to_hex(value);
}

std::string Session::write_register(const rsp::req::WriteRegister& r) {
  const auto* e = engine_.layout().find(r.regnum);
  if (!e) return error_text("no such register");
  if (r.bytes.size() != e->info->bytes()) return error_text("wrong register size");
  if (!engine_.write_register(selected_thread(general_thread_), r.regnum, r.bytes))
    return error_text("cannot write register " + std::string(e->info->name));
  return "OK";
}

bool Session::answer_from_read_ahead(const rsp::req::ReadMemory& r) {
  if (!read_ahead_ || read_ahead_->process != selected_process() || read_ahead_->address != r.address ||
      read_ahead_->length != r.length || read_ahead_->binary != r.binary)
    return false;
  ReadAhead used = std::move(*read_ahead_);
  read_ahead_.reset();
  last_frame_ = std::move(used.frame);
  send_(last_frame_);
  read_ahead_after(r, used.delivered);
  return true;
}

void Session::read_ahead_after(const rsp::req::ReadMemory& r, std::size_t delivered) {
  // Worth it only for pieces big enough that framing them costs more than a
  // wasted read; the memory cannot change while every thread is stopped
  // (short of another process writing shared memory within the round trip).
  constexpr std::size_t kWorthReadingAhead = 0x4000;
  if (delivered < kWorthReadingAhead || non_stop_ || engine_.running()) return;
  rsp::req::ReadMemory next{r.address + delivered, r.length, r.binary};
  if (next.address < r.address) return;  // the end of the address space
  std::size_t next_delivered = 0;
  std::string reply = read_memory(next, &next_delivered);
  if (next_delivered == 0) return;
  read_ahead_ = ReadAhead{selected_process(), next.address, next.length, next.binary, next_delivered, rsp::frame(reply)};
}

std::string Session::read_memory(const rsp::req::ReadMemory& r, std::size_t* delivered) {
  if (delivered) *delivered = 0;
  std::size_t length = static_cast<std::size_t>(std::min<std::uint64_t>(r.length, kMemoryReplyBytes));
  if (r.binary) {
    // lldb asks "x0,0" to learn whether 'x' exists and wants "OK"; it then
    // takes bare bytes. gdb 16 and newer lldb know 'x' from binary-upload+,
    // never ask that, and want the bytes after a 'b'.
    if (length == 0) {
      bare_binary_reads_ = true;
      return "OK";
    }
    length = std::min(length, kPacketSize - 1);
  }
  std::vector<std::uint8_t> buf(length);
  long n = engine_.read_memory(selected_process(), r.address, buf);
  if (length == 0) return "";
  if (n <= 0) return std::string(kMemoryError);
  std::span read(buf.data(), static_cast<std::size_t>(n));
  if (!r.binary) {
    if (delivered) *delivered = read.size();
    return rsp::to_hex(read);
  }
  std::string out = bare_binary_reads_ ? "" : "b";
  std::size_t taken = rsp::append_escaped_binary_within(out, read, kPacketSize - 1);
  if (bare_binary_reads_ && reads_as_lldb_status(out)) {
    // Bare bytes that spell "OK" or "Exx" would be taken for that answer:
    // the first byte alone is unambiguous, and lldb asks again for the rest.
    out.clear();
    taken = rsp::append_escaped_binary_within(out, read.first(1), 2);
  }
  if (delivered) *delivered = taken;
  return out;
}

std::string Session::write_memory(const rsp::req::WriteMemory& r) {
  if (r.bytes.empty()) return "OK";  // gdb's probe for 'X' support
  long n = engine_.write_memory(selected_process(), r.address, r.bytes);
  if (n != static_cast<long>(r.bytes.size())) return std::string(kMemoryError);
  return "OK";
}

std::string Session::report_unreported_exit() {
  EngineStop stop = *unreported_exit_;
  unreported_exit_.reset();
  if (!extended_) outcome_ = Outcome::ProcessExited;
  return stop_reply(stop);
}

std::optional<std::string> Session::resume(const rsp::req::Resume& r) {
  // Each thread takes the first action that names it (vCont's rule).
  std::vector<ThreadResume> plan;
  std::vector<pid_t> to_stop;  // non-stop's vCont;t
  for (pid_t tid : engine_.thread_ids()) {
    for (const auto& action : r.actions) {
      rsp::ThreadId target = action.thread.value_or(rsp::ThreadId{rsp::ThreadId::kAll, rsp::ThreadId::kAll});
      if (!action.thread && r.actions.size() == 1 &&
          (action.kind == rsp::req::ResumeAction::Kind::Step || action.kind == rsp::req::ResumeAction::Kind::RangeStep)) {
        // A bare 's'/'S'/'r' steps the thread chosen with Hc (or the current one);
        // a bare 't' is every thread (gdb's stop of all in non-stop).
        target = {rsp::ThreadId::kAll, selected_thread(continue_thread_)};
      }
      if (!target.matches(engine_.process_of(tid), tid)) continue;
      if (action.kind == rsp::req::ResumeAction::Kind::Stop) {
        to_stop.push_back(tid);  // all-stop: already stopped
        break;
      }
      int host_signal = gdb_to_host_signal(action.signal);
      bool range = action.kind == rsp::req::ResumeAction::Kind::RangeStep;
      plan.push_back({tid, {.step = range || action.kind == rsp::req::ResumeAction::Kind::Step,
                            .host_signal = host_signal,
                            .range_start = range ? action.range_start : 0,
                            .range_end = range ? action.range_end : 0}});
      break;
    }
  }
  if (non_stop_) {
    // Non-stop: the reply is only "done"; what the threads meet comes as
    // notifications. Threads already running are left as they are.
    engine_.stop_threads(to_stop);
    engine_.resume(plan);
    return std::string("OK");
  }
  if (plan.empty() && !engine_.has_untold_events()) {
    // Every thread gdb named is gone: if the process is dying (a SIGKILL from
    // outside), its exit is what gdb should hear, now or when it lands.
    // A SIGKILL pending for the group counts as dying too (exiting() reads it
    // from /proc), so the kernel's teardown under way is not mistaken for an error.
    engine_.drain_events();
    if (unreported_exit_) return report_unreported_exit();
    if (engine_.has_process() && (engine_.exiting() || engine_.only_exiting_threads())) {
      waiting_for_stop_ = true;
      return std::nullopt;
    }
    return error_text("nothing to resume");
  }
  if (interrupt_pending_ && !plan.empty()) {
    // A Ctrl-C that arrived while gdb had not resumed yet: it stops this
    // resume before it starts, as the SIGINT gdbserver would have queued.
    interrupt_pending_ = false;
    EngineStop stop{EngineStop::Kind::Signal, plan.front().tid, SIGINT};
    general_thread_ = {rsp::ThreadId::kAll, stop.tid};
    return stop_reply(stop);
  }
  waiting_for_stop_ = true;
  engine_.resume(plan);
  return std::nullopt;
}

std::string Session::breakpoint(const rsp::req::Breakpoint& r) {
  int rc;
  if (r.type == 0) {
    rc = r.insert ? engine_.insert_breakpoint(selected_process(), r.address)
                  : engine_.remove_breakpoint(selected_process(), r.address);
    // gdb sends Z0 again, for a breakpoint already in, whenever its conditions change.
    if (rc == 0 && r.insert && !disabled_.conditional_breakpoints) engine_.set_breakpoint_agent(selected_process(), r.address, r.conditions, r.commands, r.persist);
  } else {
    if (r.type > 4 || !engine_.has_hardware_debug(selected_process())) return "";  // gdb falls back to software
    static constexpr arch::WatchKind kinds[] = {arch::WatchKind::Execute, arch::WatchKind::Execute,
                                                arch::WatchKind::Write, arch::WatchKind::Read,
                                                arch::WatchKind::Access};
    auto kind = kinds[r.type];
    rc = r.insert ? engine_.insert_hardware(selected_process(), kind, r.address, r.kind)
                  : engine_.remove_hardware(selected_process(), kind, r.address, r.kind);
  }
  return rc == 0 ? "OK" : errno_text(rc);
}

std::string Session::thread_local_address(const rsp::req::TlsAddress& r) {
  if (!thread_db_available_) return error_text("libthread-db-search-path holds no libthread_db");
  pid_t tid = static_cast<pid_t>(r.thread.tid);
  if (!engine_.thread_alive(tid) || !r.thread.matches(engine_.process_of(tid), tid))
    return error_text("no such thread");
  pid_t pid = engine_.process_of(tid);
  auto dtv_pointer = engine_.dtv_pointer_address(tid);
  if (!dtv_pointer) return error_text("the thread has no thread pointer");
  std::optional<GlibcTlsLayout> layout;
  for (const std::string& path : tls_layout_candidates(pid)) {
    auto cached = tls_layouts_.find(path);
    if (cached == tls_layouts_.end()) cached = tls_layouts_.emplace(path, read_glibc_tls_layout(path)).first;
    if ((layout = cached->second)) break;
  }
  if (!layout) return error_text("no glibc with _thread_db_ descriptors is loaded");
  MemoryReader memory = [&](std::uint64_t address, std::span<std::uint8_t> out) {
    return engine_.read_memory(pid, address, out);
  };
  auto address = ustub::thread_local_address(*layout, *dtv_pointer, r.link_map, r.offset, memory);
  if (auto* e = std::get_if<TlsError>(&address)) return error_text(e->why);
  return rsp::number_to_hex(std::get<std::uint64_t>(address));
}

std::string Session::thread_list_xml() const {
  std::string xml = "<?xml version=\"1.0\"?>\n<threads>\n";
  for (pid_t tid : holds_unattended() ? std::vector<pid_t>{} : engine_.thread_ids()) {
    std::string name;
    pid_t pid = engine_.process_of(tid);
    if (FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm").c_str(), "r")) {
      char buf[64] = {};
      if (std::fgets(buf, sizeof buf, f)) name = buf;
      std::fclose(f);
      if (!name.empty() && name.back() == '\n') name.pop_back();
    }
    xml += "<thread id=\"" + thread_id(tid) + "\"";
    if (int core = last_cpu(pid, tid); core >= 0) xml += " core=\"" + std::to_string(core) + "\"";
    std::string escaped = rsp::xml_escape(name);
    if (!escaped.empty()) xml += " name=\"" + escaped + "\"";
    xml += "/>\n";
  }
  xml += "</threads>\n";
  return xml;
}

std::string Session::xfer(const rsp::req::XferRead& r) {
  std::uint64_t length = std::min<std::uint64_t>(r.length, kReplyDataLimit);
  auto chunk = [&](std::string_view object) { return rsp::xfer_chunk(object, r.offset, length); };
  if (r.object == "features") {
    if (!engine_.has_process()) return error_text("no process");
    if (r.annex != "target.xml") return error_text("no such description: " + r.annex);
    return chunk(engine_.layout().target_xml());
  }
  if (r.object == "exec-file") {
    std::int64_t pid = selected_process();
    if (!r.annex.empty()) {
      auto parsed = rsp::parse_hex_number(r.annex);
      if (!parsed) return error_text("bad pid");
      pid = static_cast<std::int64_t>(*parsed);
    }
    if (pid <= 0) return error_text("no process");
    std::string path = read_link("/proc/" + std::to_string(pid) + "/exe");
    if (path.empty()) return errno_text(errno);
    return chunk(path);
  }
  if (r.object == "osdata") {
    // One snapshot per listing: gdb reads it in chunks, and processes come and go meanwhile.
    if (r.offset == 0 || !os_data_snapshot_ || os_data_annex_ != r.annex) {
      os_data_snapshot_ = os_data(r.annex);
      os_data_annex_ = r.annex;
    }
    if (!os_data_snapshot_) return error_text("no such list: " + r.annex);
    return chunk(*os_data_snapshot_);
  }
  if (!engine_.has_process()) return error_text("no process");
  if (waiting_for_stop_) return error_text("the process is running");
  if (r.object == "auxv") {
    auto auxv = read_auxv(selected_process());
    if (!auxv) return errno_text(errno);
    return chunk(*auxv);
  }
  if (r.object == "threads") {
    // gdb reads the document a chunk at a time from offset 0 on; built once
    // per read, not per chunk (two /proc files a thread: 500 threads made
    // each chunk cost a thousand opens).
    if (r.offset == 0 || !threads_document_) threads_document_ = thread_list_xml();
    return chunk(*threads_document_);
  }
  if (r.object == "siginfo") {
    if (!engine_.has_process()) return error_text("no process");
    auto raw = engine_.siginfo(selected_thread(general_thread_));
    if (raw.empty()) return error_text("no signal");
    return chunk(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
  }
  if (r.object == "libraries-svr4") {
    pid_t pid = selected_process();
    auto memory = [&](std::uint64_t address, std::span<std::uint8_t> out) { return engine_.read_memory(pid, address, out); };
    // gdb's annex: "start=ADDR;prev=ADDR;lmid=ADDR", when it walks from a known point.
    std::uint64_t start = 0, prev = 0, lmid = 0;
    std::string_view annex = r.annex;
    while (!annex.empty()) {
      auto end = annex.find(';');
      std::string_view field = annex.substr(0, end);
      auto eq = field.find('=');
      if (eq != std::string_view::npos) {
        auto value = rsp::parse_hex_number(field.substr(eq + 1));
        std::string_view key = field.substr(0, eq);
        if (value && key == "start") start = *value;
        else if (value && key == "prev") prev = *value;
        else if (value && key == "lmid") lmid = *value;
      }
      if (end == std::string_view::npos) break;
      annex.remove_prefix(end + 1);
    }
    if (start != 0) return chunk(svr4_library_list_from(start, prev, lmid, memory));
    auto auxv = read_auxv(pid);
    std::string exe = "/proc/" + std::to_string(pid) + "/exe";
    auto dynamic = auxv ? dynamic_section_address(exe, *auxv) : std::nullopt;
    // Static executables have no dynamic section, the dynamic linker run as
    // the program no DT_DEBUG: gdb takes E01 as "find r_debug yourself".
    if (!dynamic) return "E01";
    auto list = svr4_library_list(*dynamic, memory);
    if (!list) return "E01";
    return chunk(*list);
  }
  return "";
}

void Session::console_output(std::string_view text) {
  send_packet("O" + rsp::to_hex(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())));
}

// gdbserver's monitor commands and messages, which gdb's testsuite checks.
std::string Session::monitor(const std::string& command) {
  auto set_debug = [&](bool remote, bool on, std::string_view what) {
    if (hooks_.set_debug) hooks_.set_debug(remote, on);
    console_output(std::string(what) + (on ? " enabled.\n" : " disabled.\n"));
    return std::string("OK");
  };
  if (command == "exit") {
    outcome_ = Outcome::ExitRequested;
    return "OK";
  }
  if (command == "help") {
    console_output(
        "The following monitor commands are supported:\n"
        "  set debug <0|1>\n"
        "    Enable general debugging messages\n"
        "  set remote-debug <0|1>\n"
        "    Enable remote protocol debugging messages\n"
        "  set debug-format option1[,option2,...]\n"
        "    Add additional information to debugging messages\n"
        "    Options: all, none, timestamp\n"
        "  set libthread-db-search-path [PATH]\n"
        "    Where libthread_db may be found; ustub reads thread-local storage itself\n"
        "    unless PATH holds no libthread_db.so.1 (default: $pdir:$sdir)\n"
        "  exit\n"
        "    Quit ustub\n");
    return "OK";
  }
  auto on_off = [](std::string_view value) -> std::optional<bool> {
    if (value == "1" || value == "on") return true;
    if (value == "0" || value == "off") return false;
    return std::nullopt;
  };
  if (command.starts_with("set debug ")) {
    if (auto on = on_off(std::string_view(command).substr(10))) return set_debug(false, *on, "Debug output");
  } else if (command.starts_with("set remote-debug ")) {
    if (auto on = on_off(std::string_view(command).substr(17)))
      return set_debug(true, *on, "Protocol debug output");
  } else if (command == "set debug-format all" || command == "set debug-format timestamp") {
    console_output("All extra debug format options enabled.\n");
    return "OK";
  } else if (command == "set debug-format none") {
    console_output("All extra debug format options disabled.\n");
    return "OK";
  } else if (command.starts_with("set libthread-db-search-path")) {
    std::string path = command.size() > 29 ? command.substr(29) : std::string();
    thread_db_available_ = thread_db_search_path_resolves(
        path, [](const std::string& file) { return ::access(file.c_str(), F_OK) == 0; });
    if (!thread_db_available_)
      console_output("No libthread_db.so.1 on that path: thread-local variables are not looked up, "
                     "as gdbserver without libthread_db.\n");
    console_output("libthread-db-search-path set to `" + path + "'\n");
    return "OK";
  }
  console_output("Unknown monitor command.\n\n");
  return "E01";  // gdb: "Protocol error with Rcmd"
}

// A new process: nothing gdb selected or was owed about the last one holds.
void Session::start_over() {
  general_thread_ = {rsp::ThreadId::kAll, rsp::ThreadId::kAny};
  continue_thread_ = {rsp::ThreadId::kAll, rsp::ThreadId::kAll};
  unreported_exit_.reset();
}

std::string Session::run(const rsp::req::Run& r) {
  if (!hooks_.run) return error_text("this server cannot start programs");
  // With multiprocess, a run while a process is held is gdb starting another
  // inferior (gdb kills an inferior's old process itself before rerunning it).
  bool unattended = holds_unattended();
  if (engine_.has_process() && !unattended && !multiprocess_) {
    waiting_for_stop_ = false;
    engine_.kill();
  }
  std::string why = hooks_.run(r.argv, inferior_settings_);
  if (!why.empty()) return error_text(why);
  start_over();
  // Non-stop: gdb takes the threads for running and stops each (vCont;t),
  // hearing of each stop then.
  if (non_stop_) return "OK";
  return stop_reply(engine_.last_stop());
}

std::string Session::attach(const rsp::req::AttachTo& r) {
  if (!hooks_.attach) return error_text("this server cannot attach");
  // A process held for its persistent dprintfs is gdb's again once it attaches to it.
  bool unattended = holds_unattended();
  if (engine_.has_process() && !unattended && !multiprocess_)
    return error_text("already debugging process " + std::to_string(engine_.pid()));
  if (engine_.has_process(static_cast<pid_t>(r.pid)) && !unattended) return error_text("already attached to it");
  std::string why = hooks_.attach(static_cast<pid_t>(r.pid));
  if (!why.empty()) return error_text(why);
  start_over();
  // Non-stop: gdb takes the threads for running and stops each (vCont;t),
  // hearing of each stop then.
  if (non_stop_) return "OK";
  return stop_reply(engine_.last_stop());
}

std::string Session::set_thread(const rsp::req::SetThread& r) {
  bool concrete = r.thread.tid > 0;
  if (concrete && (!engine_.has_process() || !engine_.thread_alive(static_cast<pid_t>(r.thread.tid))))
    return error_text("no such thread");
  if (r.operation == 'g') general_thread_ = r.thread;
  else if (r.operation == 'c') continue_thread_ = r.thread;
  else return error_text("unknown 'H' operation");
  return "OK";
}

}  // namespace ustub
