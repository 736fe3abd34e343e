#pragma once
// If USTUB_CRASH_LOG names a file, a fatal signal (SIGSEGV, SIGABRT, …) of
// ustub's own appends one line there before ustub dies of it. gdb's testsuite
// run uses this to tell a crash of ustub from the testsuite killing it.
namespace ustub {
void install_crash_report();
}
