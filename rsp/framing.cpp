#include "rsp/framing.hpp"

#include "rsp/hex.hpp"

namespace rsp {

std::uint8_t checksum(std::string_view bytes) {
  std::uint8_t sum = 0;
  for (char c : bytes) sum = static_cast<std::uint8_t>(sum + static_cast<std::uint8_t>(c));
  return sum;
}

bool expand_payload(std::string_view raw, std::size_t limit, std::string& out) {
  out.clear();
  std::string runs;
  runs.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '*') {
      // A run needs a previous character and a count; gdb's count is (char - 29).
      if (runs.empty() || i + 1 >= raw.size()) return false;
      int repeat = static_cast<std::uint8_t>(raw[++i]) - 29;
      if (repeat < 0 || runs.size() + static_cast<std::size_t>(repeat) > limit) return false;
      runs.append(static_cast<std::size_t>(repeat), runs.back());
      continue;
    }
    runs.push_back(c);
    if (runs.size() > limit) return false;
  }
  out.reserve(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (runs[i] == '}') {
      if (i + 1 >= runs.size()) return false;
      out.push_back(static_cast<char>(runs[++i] ^ 0x20));
    } else {
      out.push_back(runs[i]);
    }
  }
  return true;
}

void Decoder::finish_packet(std::vector<InboundEvent>& out) {
  state_ = State::Idle;
  if (oversize_) {
    out.push_back({InboundEvent::Kind::Oversize, {}});
  } else if (checksum_received_ != running_sum_) {
    out.push_back({InboundEvent::Kind::BadChecksum, {}});
  } else {
    InboundEvent event{InboundEvent::Kind::Packet, {}};
    if (expand_payload(raw_, max_payload_, event.payload)) {
      out.push_back(std::move(event));
    } else {
      // A bad run or dangling escape is a transmission error: ask again.
      out.push_back({InboundEvent::Kind::BadChecksum, {}});
    }
  }
  raw_.clear();
  raw_.shrink_to_fit();
}

void Decoder::feed(std::string_view bytes, std::vector<InboundEvent>& out) {
  for (char c : bytes) {
    switch (state_) {
      case State::Idle:
        if (c == '$') {
          state_ = State::Payload;
          raw_.clear();
          running_sum_ = 0;
          oversize_ = false;
        } else if (c == '+') {
          out.push_back({InboundEvent::Kind::Ack, {}});
        } else if (c == '-') {
          out.push_back({InboundEvent::Kind::Nack, {}});
        } else if (c == '\x03') {
          out.push_back({InboundEvent::Kind::Interrupt, {}});
        }
        // Anything else between packets is line noise and is dropped.
        break;
      case State::Payload:
        if (c == '#') {
          state_ = State::Checksum1;
        } else if (c == '$') {
          // gdb restarts a packet this way after a timeout; start over.
          raw_.clear();
          running_sum_ = 0;
          oversize_ = false;
        } else {
          running_sum_ = static_cast<std::uint8_t>(running_sum_ + static_cast<std::uint8_t>(c));
          if (raw_.size() >= max_payload_) {
            oversize_ = true;
          } else {
            raw_.push_back(c);
          }
        }
        break;
      case State::Checksum1: {
        int d = hex_digit_value(c);
        checksum_high_ = d;
        state_ = State::Checksum2;
        break;
      }
      case State::Checksum2: {
        int d = hex_digit_value(c);
        checksum_received_ = (checksum_high_ < 0 || d < 0) ? -1 : checksum_high_ << 4 | d;
        finish_packet(out);
        break;
      }
    }
  }
}

std::string frame(std::string_view payload, bool run_length) {
  // Written in place: runs only ever shorten the payload.
  std::string out(payload.size() + 4, '\0');
  char* o = out.data();
  *o++ = '$';
  const char* begin = payload.data();
  const char* end = begin + payload.size();
  for (const char* p = begin; p < end;) {
    char c = *p;
    // An escaped byte ('}' x) must not be repeated by a run: gdb expands runs
    // before unescaping, so only characters that are not part of an escape qualify.
    bool run_of_four = run_length && end - p >= 4 && p[1] == c && p[2] == c && p[3] == c && c != '}' &&
                       (p == begin || p[-1] != '}');
    if (!run_of_four) {
      *o++ = c;
      ++p;
      continue;
    }
    // One run covers at most 98 characters (the count char must stay
    // printable, <= '~'); looking further would make long runs quadratic.
    constexpr std::size_t kLongestRun = 98;
    std::size_t run = 4;
    while (run < kLongestRun && p + run < end && p[run] == c) ++run;
    std::size_t extra = run - 1;
    // Counts that would produce '#' or '$' are not allowed; shorten the run.
    while (extra + 29 == '#' || extra + 29 == '$') --extra;
    *o++ = c;
    *o++ = '*';
    *o++ = static_cast<char>(extra + 29);
    p += extra + 1;
  }
  std::size_t body = static_cast<std::size_t>(o - out.data()) - 1;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::uint8_t sum = checksum(std::string_view(out.data() + 1, body));
  *o++ = '#';
  *o++ = kDigits[sum >> 4];
  *o++ = kDigits[sum & 0xf];
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

std::string notification_frame(std::string_view payload) {
  std::string out = frame(payload);
  out.front() = '%';
  return out;
}

}  // namespace rsp
