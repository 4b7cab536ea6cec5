#pragma once
// Whether resident memory means anything in this build: AddressSanitizer keeps freed memory in
// quarantine, so memory bounds are asserted in the normal build only.

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMeasuresMemory = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kMeasuresMemory = false;
#else
constexpr bool kMeasuresMemory = true;
#endif
#else
constexpr bool kMeasuresMemory = true;
#endif
