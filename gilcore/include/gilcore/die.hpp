#pragma once

namespace gilcore {

/// Prints "gilcore: bug: <what>" to stderr and aborts. A broken lock invariant is a bug in the
/// caller, never an input error.
[[noreturn]] void die(const char* what) noexcept;

}  // namespace gilcore
