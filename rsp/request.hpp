#pragma once
// Parses one packet payload into a typed request. Never throws; anything it
// cannot make sense of becomes Malformed (the session answers with an error)
// or Unknown (the session answers with the empty reply, as the protocol asks).
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "rsp/thread_id.hpp"

namespace rsp {

namespace req {
struct QuerySupported { std::vector<std::string> gdb_features; };
struct StartNoAckMode {};
struct HaltReason {};
struct ReadRegisters {};
struct WriteRegisters { std::vector<std::uint8_t> bytes; };
struct ReadRegister { unsigned regnum; };
struct WriteRegister { unsigned regnum; std::vector<std::uint8_t> bytes; };
// 'm' answers in hex; 'x' (gdb 16's binary-upload, and lldb's) in escaped binary.
struct ReadMemory { std::uint64_t address; std::uint64_t length; bool binary = false; };
struct WriteMemory { std::uint64_t address; std::vector<std::uint8_t> bytes; };
struct ResumeAction {
  enum class Kind { Continue, Step, Stop, RangeStep };
  Kind kind = Kind::Continue;
  int signal = 0;                 // 0 = none
  std::uint64_t range_start = 0;  // RangeStep: step while the pc is in [start, end)
  std::uint64_t range_end = 0;
  std::optional<ThreadId> thread; // nullopt = every thread not named by an earlier action
};
// 'c', 'C', 's', 'S' and vCont all become one list of actions.
struct Resume { std::vector<ResumeAction> actions; };
struct VContQuery {};
struct Breakpoint {
  bool insert;
  int type;  // 0 software, 1 hardware, 2 write, 3 read, 4 access watchpoint
  std::uint64_t address;
  std::uint64_t kind;
  // Target-side conditions (";X len,bytecode", ConditionalBreakpoints): the
  // stop is worth telling when any of them is true.
  std::vector<std::vector<std::uint8_t>> conditions{};
  // Target-side commands (";cmds:persist,X len,bytecode…", BreakpointCommands:
  // an agent-style dprintf's printf): run at a hit whose condition holds,
  // which is then not told to gdb.
  std::vector<std::vector<std::uint8_t>> commands{};
  bool persist = false;  // keep running them after gdb disconnects
};
struct XferRead {
  std::string object, annex;
  std::uint64_t offset, length;
};
struct XferWrite {
  std::string object, annex;
  std::uint64_t offset;
  std::vector<std::uint8_t> data;  // unescaped
};
struct SetThread { char operation; ThreadId thread; };
struct CurrentThread {};
struct ThreadAlive { ThreadId thread; };
struct ThreadInfoFirst {};
struct ThreadInfoNext {};
struct Attached { std::optional<std::int64_t> pid; };
struct Detach { std::optional<std::int64_t> pid; };
struct Kill { std::optional<std::int64_t> pid; };
struct Symbol {};
// qGetTLSAddr: the address of a thread-local variable at `offset` in the TLS
// block of the module whose link_map is at `link_map`, in `thread`.
struct TlsAddress { ThreadId thread; std::uint64_t offset; std::uint64_t link_map; };
struct CtrlC {};
struct FileOpen { std::string path; std::uint64_t flags; std::uint64_t mode; };
struct FilePread { std::int64_t fd; std::uint64_t count; std::uint64_t offset; };
struct FilePwrite { std::int64_t fd; std::uint64_t offset; std::vector<std::uint8_t> data; };
struct FileClose { std::int64_t fd; };
struct FileFstat { std::int64_t fd; };
struct FileUnlink { std::string path; };
struct FileReadlink { std::string path; };
struct FileSetFs { std::int64_t pid; };
struct MonitorCommand { std::string command; };   // qRcmd: gdb's "monitor …"
struct ExtendedMode {};                             // '!'
struct Run { std::vector<std::string> argv; };      // vRun: argv[0] empty = the last program
struct AttachTo { std::int64_t pid; };              // vAttach
struct Restart {};                                  // 'R': run the last program again, no reply
// QPassSignals (deliver without stopping) / QProgramSignals: gdb's signal numbers.
struct SignalSet { bool pass; std::vector<int> gdb_signals; };
// QThreadEvents: report thread creation ("create" stop) and exit ("w" reply).
struct ThreadEvents { bool enable; };
// QNonStop: non-stop mode on or off; vStopped: gdb took the last stop
// notification and asks for the next queued one.
struct NonStop { bool enable; };
struct StopAck {};
// QCatchSyscalls: stop at syscall entry and return; an empty list means every syscall.
struct CatchSyscalls { bool enable; std::vector<int> numbers; };
// How the next vRun starts its program (gdb sends these just before it).
struct EnvironmentReset {};                            // QEnvironmentReset
struct EnvironmentSet { std::string assignment; };     // QEnvironmentHexEncoded: "NAME=VALUE"
struct EnvironmentUnset { std::string name; };         // QEnvironmentUnset
struct SetWorkingDir { std::string path; };            // QSetWorkingDir: "" = the server's own
struct StartupWithShell { bool enable; };              // QStartupWithShell
struct DisableRandomization { bool enable; };          // QDisableRandomization
struct Malformed { std::string why; };
// lldb's first question about the host; no gdb sends it.
struct HostInfo {};
struct Unknown {};
}  // namespace req

using Request = std::variant<
    req::QuerySupported, req::StartNoAckMode, req::HaltReason, req::ReadRegisters,
    req::WriteRegisters, req::ReadRegister, req::WriteRegister, req::ReadMemory,
    req::WriteMemory, req::Resume, req::VContQuery, req::Breakpoint, req::XferRead, req::XferWrite,
    req::SetThread, req::CurrentThread, req::ThreadAlive, req::ThreadInfoFirst,
    req::ThreadInfoNext, req::Attached, req::Detach, req::Kill, req::Symbol, req::TlsAddress, req::CtrlC,
    req::FileOpen, req::FilePread, req::FilePwrite, req::FileClose, req::FileFstat,
    req::FileUnlink, req::FileReadlink, req::FileSetFs, req::MonitorCommand, req::ExtendedMode,
    req::Run, req::AttachTo, req::Restart, req::SignalSet, req::ThreadEvents, req::NonStop, req::StopAck, req::CatchSyscalls,
    req::EnvironmentReset, req::EnvironmentSet, req::EnvironmentUnset, req::SetWorkingDir, req::StartupWithShell,
    req::DisableRandomization,
    req::Malformed, req::HostInfo, req::Unknown>;

Request parse(std::string_view payload);

}  // namespace rsp
