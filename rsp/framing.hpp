#pragma once
// Packet framing: "$payload#cs", acks, the 0x03 interrupt byte, run-length encoding.
// The decoder is a byte-at-a-time state machine with a hard size limit, so hostile
// input can neither crash it nor make it grow without bound.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rsp {

struct InboundEvent {
  enum class Kind {
    Ack,          // '+'
    Nack,         // '-'
    Interrupt,    // 0x03 outside a packet
    Packet,       // a complete packet with a good checksum
    BadChecksum,  // a complete packet whose checksum did not match
    Oversize,     // a packet longer than the limit; its payload was discarded
  };
  Kind kind;
  std::string payload;  // Packet only: after run-length expansion and '}' unescaping
};

class Decoder {
 public:
  explicit Decoder(std::size_t max_payload) : max_payload_(max_payload) {}

  // Consumes bytes; appends every event they complete to `out`.
  void feed(std::string_view bytes, std::vector<InboundEvent>& out);

  std::size_t max_payload() const { return max_payload_; }

 private:
  enum class State { Idle, Payload, Checksum1, Checksum2 };
  void finish_packet(std::vector<InboundEvent>& out);

  std::size_t max_payload_;
  State state_ = State::Idle;
  std::string raw_;  // payload bytes as transmitted (escapes and runs intact)
  std::uint8_t running_sum_ = 0;
  int checksum_high_ = 0;
  int checksum_received_ = 0;
  bool oversize_ = false;
};

std::uint8_t checksum(std::string_view bytes);

// "$payload#cs". With `run_length`, runs of 4+ identical characters are
// compressed the way gdb's read_frame expands them.
std::string frame(std::string_view payload, bool run_length = true);

// "%payload#cs": an asynchronous notification (non-stop's "Stop:…"), which
// gdb does not acknowledge.
std::string notification_frame(std::string_view payload);

// Expands '*' runs, then undoes '}' escapes; fails on malformed sequences or
// when the result would exceed `limit`.
bool expand_payload(std::string_view raw, std::size_t limit, std::string& out);

}  // namespace rsp
