# The git revision goes into every result file; "unknown" outside a checkout. A build without
# .git (the Docker image) passes it in with -DCONVOY_GIT_REVISION=<rev>.
if(NOT CONVOY_GIT_REVISION)
  execute_process(COMMAND git describe --always --dirty --abbrev=12
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    OUTPUT_VARIABLE CONVOY_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET RESULT_VARIABLE _convoy_git_rc)
  if(NOT _convoy_git_rc EQUAL 0 OR CONVOY_GIT_REVISION STREQUAL "")
    set(CONVOY_GIT_REVISION "unknown")
  endif()
endif()
