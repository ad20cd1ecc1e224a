#pragma once
// What a sanitizer build (the asan and tsan presets) changes for a test: it runs several times
// slower, so deadlines scale (never assertions on latency), and a few measurements are not
// meaningful under it.

namespace convoy::testing {

#if defined(CONVOY_SANITIZER_thread)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif

#if defined(CONVOY_SANITIZER_address)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif

/// Either sanitizer: its runtime makes system calls and starts threads of its own.
inline constexpr bool kSanitized = kThreadSanitizer || kAddressSanitizer;

/// How many times longer a deadline is in this build.
inline constexpr int kSlowdown = kThreadSanitizer ? 8 : kAddressSanitizer ? 3 : 1;

}  // namespace convoy::testing
