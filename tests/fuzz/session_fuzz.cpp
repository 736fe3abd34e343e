// libFuzzer target: a whole session — framing, parsing, dispatch, the engine
// and the replies — on a scripted process (no ptrace), fed any byte stream.
// The process is a small model: 1 KiB of memory, one thread, a stop after
// every resume. vFile works inside a scratch directory only, vRun/vAttach
// adopt new model processes. Every byte ustub sends must be an ack or a
// well-formed packet within the advertised size; anything else, a crash, a
// hang or a sanitizer report is a bug.
#include <signal.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "arch/arch.hpp"
#include "rsp/framing.hpp"
#include "server/engine.hpp"
#include "server/session.hpp"
#include "tests/engine/scripted_ops.hpp"

using namespace ustub;
using namespace ustub::testing;

namespace {

constexpr pid_t kFirstPid = 0x100;

// vFile's root: a scratch directory with a file and a link in it.
// A plain array, not a std::string: the atexit clean-up runs after static
// destructors would have freed a string.
char scratch_dir[] = "/tmp/ustub-session-fuzz-XXXXXX";

const char* scratch_root() {
  static const bool made = [] {
    std::string dir = ::mkdtemp(scratch_dir);
    std::ofstream(dir + "/program") << "\x7f" "ELF not really";
    std::filesystem::create_symlink("/program", dir + "/link");
    std::atexit([] { std::filesystem::remove_all(scratch_dir); });
    return true;
  }();
  (void)made;
  return scratch_dir;
}

struct Model {
  ScriptedOps ops;
  Engine engine{arch::arch_by_name("x86_64"), ops};
  std::string sent;
  pid_t next_pid = kFirstPid;
  Session session;

  Model()
      : session(engine, [this](std::string_view bytes) { sent.append(bytes); }, hooks(), {}, scratch_root()) {
    // Memory is shared by every model process; small, since a std::map is slow to fill.
    for (std::uint64_t a = 0x1000; a < 0x1400; ++a) ops.memory[a] = static_cast<std::uint8_t>(a * 7);
    start_process();
    engine.set_stop_handler([this](const EngineStop& s) { session.on_engine_stop(s); });
  }

  void start_process() {
    pid_t pid = next_pid++;
    ops.set_pc(pid, 0x1000);
    engine.adopt(pid, {pid}, true, {EngineStop::Kind::Signal, pid, SIGTRAP});
  }

  SessionHooks hooks() {
    SessionHooks h;
    h.run = [this](const std::vector<std::string>&, const InferiorSettings&) {
      start_process();
      return std::string();
    };
    h.attach = [this](pid_t pid) {
      if (pid <= 0 || pid > 0x7fff) return std::string("no such process");
      ops.set_pc(pid, 0x1000);
      engine.adopt(pid, {pid}, false, {EngineStop::Kind::Signal, pid, SIGSTOP});
      return std::string();
    };
    h.detached = [](pid_t, bool) {};
    h.set_debug = [](bool, bool) {};
    return h;
  }

  // The model process: whatever gdb resumed stops again at once, or exits
  // when the fuzzer's byte says so.
  void let_it_run(std::uint8_t how) {
    if (!engine.has_process() || !engine.running()) return;
    pid_t tid = engine.thread_ids().front();
    if (how % 16 == 0)
      ops.pending.push_back({tid, exited_status(how / 16)});
    else
      ops.pending.push_back({tid, stopped_status(how % 2 ? SIGTRAP : SIGINT, how % 3 ? 0 : PTRACE_EVENT_STOP)});
    engine.drain_events();
  }
};

// Everything sent must be acks and whole packets with good checksums, each
// within the size we advertise.
void check_output(const std::string& sent) {
  for (std::size_t i = 0; i < sent.size();) {
    if (sent[i] == '+' || sent[i] == '-') {
      ++i;
      continue;
    }
    if (sent[i] != '$') __builtin_trap();
    std::size_t hash = sent.find('#', i);
    if (hash == std::string::npos || hash + 3 > sent.size()) __builtin_trap();
    i = hash + 3;
  }
  rsp::Decoder decoder(Session::kPacketSize);
  std::vector<rsp::InboundEvent> events;
  decoder.feed(sent, events);
  using Kind = rsp::InboundEvent::Kind;
  for (const auto& e : events)
    if (e.kind != Kind::Packet && e.kind != Kind::Ack && e.kind != Kind::Nack) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Model model;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Chunks end at each '#xx' so a resume can be answered between packets;
  // the byte after a chunk decides how the model process answers.
  std::size_t start = 0;
  while (start < input.size() && model.session.outcome() == Session::Outcome::Open) {
    std::size_t hash = input.find('#', start);
    std::size_t end = hash == std::string_view::npos ? input.size() : std::min(input.size(), hash + 3);
    model.session.on_bytes(input.substr(start, end - start));
    model.let_it_run(end < input.size() ? static_cast<std::uint8_t>(input[end]) : 1);
    start = end;
  }
  check_output(model.sent);
  return 0;
}
