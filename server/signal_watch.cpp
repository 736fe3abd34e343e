#include "server/signal_watch.hpp"

#include <sys/signalfd.h>

#include <csignal>
#include <stdexcept>
#include <system_error>

namespace ustub {

namespace {
int open_signalfd(std::initializer_list<int> signals) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : signals) sigaddset(&mask, s);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0)
    throw std::system_error(errno, std::generic_category(), "sigprocmask");
  int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
  return fd;
}
}  // namespace

SignalWatch::SignalWatch(asio::io_context& io, std::initializer_list<int> signals, Handler handler)
    : fd_(io, open_signalfd(signals)), handler_(std::move(handler)) {
  wait();
}

SignalWatch::~SignalWatch() {
  std::error_code ignored;
  fd_.close(ignored);
}

void SignalWatch::wait() {
  // A read rather than a wait for readiness: asio re-arms a wait with an
  // epoll_ctl each time, a read costs nothing more than the read itself.
  // Several SIGCHLDs may have merged into one: the handler drains all events.
  fd_.async_read_some(asio::buffer(&info_, sizeof info_), [this](const std::error_code& ec, std::size_t n) {
    if (ec && ec != asio::error::interrupted) return;  // closed
    if (!ec && n == sizeof info_) handler_(static_cast<int>(info_.ssi_signo));
    wait();
  });
}

}  // namespace ustub
