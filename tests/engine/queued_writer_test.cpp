#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio.hpp>
#include <string>
#include <thread>

#include "server/queued_writer.hpp"

using namespace ustub;

namespace {

// A connected pair: ustub's end as an Asio stream, the peer's as a plain fd.
struct Pair {
  asio::io_context io;
  asio::local::stream_protocol::socket ours{io};
  int theirs = -1;
  Pair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    ours.assign(asio::local::stream_protocol(), fds[0]);
    theirs = fds[1];
  }
  ~Pair() { ::close(theirs); }
  std::string read_all_available() {
    std::string out;
    char buf[65536];
    while (true) {
      ssize_t n = ::recv(theirs, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
};

}  // namespace

TEST_CASE("queued writes never block, keep their order and drain as the peer reads") {
  Pair p;
  QueuedWriter writer(p.ours, 8 << 20);
  std::string expected;
  for (int i = 0; i < 2000; ++i) {  // far more than a socket buffer holds
    std::string chunk = std::to_string(i) + std::string(1000, 'a' + i % 26);
    writer.send(chunk);
    expected += chunk;
  }
  CHECK(writer.unsent() > 0);
  std::string got;
  while (got.size() < expected.size()) {
    got += p.read_all_available();
    p.io.poll();  // lets the writer continue
    p.io.restart();
  }
  CHECK(got == expected);
  CHECK(writer.unsent() == 0);
}

TEST_CASE("a peer that stops reading is reported once, and nothing more is queued") {
  Pair p;
  QueuedWriter writer(p.ours, 64 << 10);
  int reports = 0;
  std::string why;
  writer.on_failure([&](std::string w) {
    ++reports;
    why = w;
  });
  for (int i = 0; i < 10000; ++i) writer.send(std::string(1000, 'x'));
  p.io.poll();
  CHECK(reports == 1);
  CHECK(why == "the peer is not reading (over 64 KiB unsent)");
  CHECK(writer.unsent() == 0);
}

TEST_CASE("flush sends what is queued, within its patience") {
  Pair p;
  QueuedWriter writer(p.ours, 8 << 20);
  writer.send(std::string(1 << 20, 'y'));
  std::size_t got = 0;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(p.theirs, buf, sizeof buf)) > 0) got += static_cast<std::size_t>(n);
  });
  writer.flush(std::chrono::milliseconds(5000));
  CHECK(writer.unsent() == 0);
  p.ours.close();
  reader.join();
  CHECK(got == 1u << 20);
}
