# CONVOY_SANITIZER applies one sanitizer set to the whole build (every target, tests included).
set(CONVOY_SANITIZER "" CACHE STRING "Sanitizers for the whole build: '', 'address' (ASan+UBSan) or 'thread' (TSan)")
set_property(CACHE CONVOY_SANITIZER PROPERTY STRINGS "" address thread)

if(CONVOY_SANITIZER STREQUAL "address")
  set(_convoy_san_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
elseif(CONVOY_SANITIZER STREQUAL "thread")
  set(_convoy_san_flags -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT CONVOY_SANITIZER STREQUAL "")
  message(FATAL_ERROR "CONVOY_SANITIZER must be empty, 'address' or 'thread', not '${CONVOY_SANITIZER}'")
endif()

if(_convoy_san_flags)
  add_compile_options(${_convoy_san_flags})
  add_link_options(${_convoy_san_flags})
  add_compile_definitions(CONVOY_SANITIZER_${CONVOY_SANITIZER}=1)
endif()
