#include <doctest/doctest.h>

#include "rsp/binary.hpp"
#include "rsp/hex.hpp"
#include "rsp/stop_reply.hpp"
#include "rsp/thread_id.hpp"

TEST_CASE("hex numbers: whole-string, bounded to 64 bits") {
  CHECK(rsp::parse_hex_number("ff") == 255u);
  CHECK(rsp::parse_hex_number("0000000000000000001") == 1u);
  CHECK_FALSE(rsp::parse_hex_number(""));
  CHECK_FALSE(rsp::parse_hex_number("12g"));
  CHECK_FALSE(rsp::parse_hex_number("10000000000000000"));
  CHECK(rsp::parse_signed_hex_number("-1") == -1);
}

TEST_CASE("hex bytes round-trip and reject odd or bad input") {
  std::vector<std::uint8_t> bytes{0x00, 0xab, 0xff};
  CHECK(rsp::to_hex(bytes) == "00abff");
  CHECK(rsp::from_hex("00abff") == bytes);
  CHECK_FALSE(rsp::from_hex("abc"));
  CHECK_FALSE(rsp::from_hex("zz"));
}

TEST_CASE("binary replies escape the four special bytes") {
  CHECK(rsp::escape_binary("a#b$c}d*e") == "a}\x03" "b}\x04" "c}]d}\x0a" "e");
}

TEST_CASE("an escaped reply within a limit takes whole bytes only, and says how many") {
  const std::string_view text = "ab#cd";
  std::span bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  std::string out = "b";
  CHECK(rsp::append_escaped_binary_within(out, bytes, 4) == 2);  // "}\x03" would make 5
  CHECK(out == "bab");
  out = "b";
  CHECK(rsp::append_escaped_binary_within(out, bytes, 5) == 3);
  CHECK(out == "bab}\x03");
  out = "b";
  CHECK(rsp::append_escaped_binary_within(out, bytes, 100) == 5);
  CHECK(out == "bab}\x03" "cd");
  out = "bb";
  CHECK(rsp::append_escaped_binary_within(out, bytes, 1) == 0);
  CHECK(out == "bb");
}

TEST_CASE("qXfer chunks say whether more follows") {
  CHECK(rsp::xfer_chunk("hello", 0, 3) == "mhel");
  CHECK(rsp::xfer_chunk("hello", 3, 10) == "llo");
  CHECK(rsp::xfer_chunk("hello", 5, 10) == "l");
  CHECK(rsp::xfer_chunk("hello", 99, 10) == "l");
}

TEST_CASE("thread ids in both syntaxes") {
  auto id = rsp::parse_thread_id("p1a.2b");
  REQUIRE(id);
  CHECK(id->pid == 0x1a);
  CHECK(id->tid == 0x2b);
  auto all = rsp::parse_thread_id("p-1.-1");
  REQUIRE(all);
  CHECK(all->matches(5, 6));
  auto bare = rsp::parse_thread_id("7");
  REQUIRE(bare);
  CHECK(bare->tid == 7);
  CHECK(bare->matches(99, 7));
  CHECK_FALSE(bare->matches(99, 8));
  CHECK_FALSE(rsp::parse_thread_id("p"));
  CHECK_FALSE(rsp::parse_thread_id("px.1"));
  CHECK(rsp::format_thread_id(0x1234, 0x1235) == "p1234.1235");
}

TEST_CASE("stop replies: T with registers, thread and reason; W and X with the process") {
  rsp::StopReply stop;
  stop.value = 5;
  stop.pid = 0x10;
  stop.tid = 0x11;
  stop.registers = {{0x10, "0011223344556677"}, {6, "00"}};
  stop.reason = "swbreak";
  CHECK(rsp::build_stop_reply(stop, true) == "T0510:0011223344556677;6:00;thread:p10.11;swbreak:;");
  CHECK(rsp::build_stop_reply(stop, false) == "T0510:0011223344556677;6:00;thread:11;swbreak:;");
  stop.with_thread = false;  // --disable-packet=Tthread
  CHECK(rsp::build_stop_reply(stop, false) == "T0510:0011223344556677;6:00;swbreak:;");
  stop.bare_signal = true;  // --disable-packet=T
  CHECK(rsp::build_stop_reply(stop, true) == "S05");
  rsp::StopReply exited{rsp::StopReply::Kind::Exited, 5, 0x10, 0x10, {}, {}};
  CHECK(rsp::build_stop_reply(exited, true) == "W05;process:10");
  rsp::StopReply killed{rsp::StopReply::Kind::Terminated, 11, 0x10, 0x10, {}, {}};
  CHECK(rsp::build_stop_reply(killed, false) == "X0b");
  rsp::StopReply thread_gone{rsp::StopReply::Kind::ThreadExited, 0, 0x10, 0x12, {}, {}};
  CHECK(rsp::build_stop_reply(thread_gone, true) == "w0;p10.12");
  CHECK(rsp::build_stop_reply(thread_gone, false) == "w0;12");
}

TEST_CASE("syscall and thread-creation stops carry their reason after the thread") {
  rsp::StopReply stop;
  stop.value = 5;
  stop.pid = 0x10;
  stop.tid = 0x11;
  stop.reason = "syscall_entry";
  stop.reason_value = "27";
  CHECK(rsp::build_stop_reply(stop, true) == "T05thread:p10.11;syscall_entry:27;");
  stop.reason = "create";
  stop.reason_value = "";
  CHECK(rsp::build_stop_reply(stop, true) == "T05thread:p10.11;create:;");
}

#include "rsp/xml.hpp"

TEST_CASE("names in XML documents are escaped") {
  CHECK(rsp::xml_escape("/lib/a&b<c>\"d'.so") == "/lib/a&amp;b&lt;c&gt;&quot;d&apos;.so");
}
