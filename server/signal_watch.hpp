#pragma once
// Signals as events on the io_context: the signals are blocked and read from a
// signalfd, so SIGCHLD (and SIGTERM/SIGHUP/SIGINT) are handled on the one
// thread that makes every ptrace call.
#include <sys/signalfd.h>

#include <asio.hpp>
#include <functional>
#include <initializer_list>

namespace ustub {

class SignalWatch {
 public:
  using Handler = std::function<void(int signo)>;
  SignalWatch(asio::io_context& io, std::initializer_list<int> signals, Handler handler);
  ~SignalWatch();

 private:
  void wait();
  asio::posix::stream_descriptor fd_;
  Handler handler_;
  signalfd_siginfo info_{};
};

}  // namespace ustub
