#include <doctest/doctest.h>

#include "rsp/framing.hpp"

using rsp::InboundEvent;

namespace {
std::vector<InboundEvent> feed(rsp::Decoder& d, std::string_view bytes) {
  std::vector<InboundEvent> out;
  d.feed(bytes, out);
  return out;
}
}  // namespace

TEST_CASE("frames carry gdb's checksum") {
  CHECK(rsp::frame("OK") == "$OK#9a");
  CHECK(rsp::frame("") == "$#00");
  CHECK(rsp::frame("qSupported", false) == "$qSupported#37");
}

TEST_CASE("decoder yields a packet with a good checksum, byte at a time") {
  rsp::Decoder d(1024);
  std::vector<InboundEvent> events;
  for (char c : std::string("$qSupported#37")) d.feed(std::string_view(&c, 1), events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == InboundEvent::Kind::Packet);
  CHECK(events[0].payload == "qSupported");
}

TEST_CASE("acks, nacks and the interrupt byte are events of their own") {
  rsp::Decoder d(1024);
  auto events = feed(d, "+-\x03$g#67");
  REQUIRE(events.size() == 4);
  CHECK(events[0].kind == InboundEvent::Kind::Ack);
  CHECK(events[1].kind == InboundEvent::Kind::Nack);
  CHECK(events[2].kind == InboundEvent::Kind::Interrupt);
  CHECK(events[3].kind == InboundEvent::Kind::Packet);
  CHECK(events[3].payload == "g");
}

TEST_CASE("a wrong or non-hex checksum is reported, and decoding goes on") {
  rsp::Decoder d(1024);
  auto events = feed(d, "$g#00$g#zz$g#67");
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == InboundEvent::Kind::BadChecksum);
  CHECK(events[1].kind == InboundEvent::Kind::BadChecksum);
  CHECK(events[2].kind == InboundEvent::Kind::Packet);
}

TEST_CASE("escapes are undone: '}' then the byte xor 0x20") {
  rsp::Decoder d(1024);
  std::string raw = "X0,1:}]";  // one '}' byte
  auto events = feed(d, "$" + raw + "#" + [&] {
                       char buf[3];
                       std::snprintf(buf, sizeof buf, "%02x", rsp::checksum(raw));
                       return std::string(buf);
                     }());
  REQUIRE(events.size() == 1);
  CHECK(events[0].payload == "X0,1:}");
}

TEST_CASE("run-length encoding round-trips through gdb's expansion rule") {
  std::string payload(200, '0');
  payload += "abc";
  payload += std::string(7, 'x');  // a run whose count would be '#': must be split
  payload += std::string(8, 'y');  // a run whose count would be '$'
  std::string framed = rsp::frame(payload);
  CHECK(framed.size() < payload.size());
  CHECK(framed.find('#') == framed.size() - 3);
  CHECK(framed.find('$', 1) == std::string::npos);
  rsp::Decoder d(4096);
  auto events = feed(d, framed);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == InboundEvent::Kind::Packet);
  CHECK(events[0].payload == payload);
}

TEST_CASE("a long run (a gcore's untouched stack in hex) is 98 characters per three, and expands back whole") {
  std::string payload(256 * 1024, '0');
  std::string framed = rsp::frame(payload);
  std::size_t runs = (payload.size() + 97) / 98;
  CHECK(framed.size() <= 4 + 3 * runs + 3);
  std::string expanded;
  REQUIRE(rsp::expand_payload(framed.substr(1, framed.size() - 4), payload.size(), expanded));
  CHECK(expanded == payload);
}

TEST_CASE("runs never repeat an escaped byte") {
  // "}]" is an escaped '}'; the ']' after it must not start a run.
  std::string payload = "}]]]]]]]]";
  std::string framed = rsp::frame(payload);
  std::string expanded;
  REQUIRE(rsp::expand_payload(framed.substr(1, framed.size() - 4), 100, expanded));
  CHECK(expanded == "}]]]]]]]");  // '}' then seven ']'
}

TEST_CASE("an oversize packet is dropped whole, reported, and the next one is read") {
  rsp::Decoder d(16);
  std::string big(100, 'a');
  auto events = feed(d, "$" + big + "#00$g#67");
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == InboundEvent::Kind::Oversize);
  CHECK(events[1].kind == InboundEvent::Kind::Packet);
}

TEST_CASE("hostile run lengths cannot blow past the limit") {
  std::string out;
  CHECK_FALSE(rsp::expand_payload("a*~a*~a*~a*~", 100, out));
  CHECK_FALSE(rsp::expand_payload("*~", 100, out));  // a run with nothing to repeat
  CHECK_FALSE(rsp::expand_payload("a*", 100, out));  // a run without a count
  CHECK_FALSE(rsp::expand_payload("a}", 100, out));  // a dangling escape
}

TEST_CASE("garbage between packets is ignored; '$' inside a packet restarts it") {
  rsp::Decoder d(1024);
  auto events = feed(d, "noise$ga$g#67");
  REQUIRE(events.size() == 1);
  CHECK(events[0].payload == "g");
}
