#pragma once
#include "server/cli.hpp"

namespace ustub {
// Runs ustub for one parsed command line; returns the exit status.
int run_server(const CommandLine& command);
}  // namespace ustub
