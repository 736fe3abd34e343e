#pragma once
// The remote protocol numbers signals gdb's way (gdb/signals.def), which
// matches Linux only for 1–15 (and 9). These convert at the boundary.
namespace ustub {
int host_to_gdb_signal(int host_signal);
int gdb_to_host_signal(int gdb_signal);  // 0 when gdb's signal has no Linux equivalent
}  // namespace ustub
