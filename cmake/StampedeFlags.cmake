# Compiler flags shared by every stampede target.
#
# sp_apply_flags(target): C11, the house warning set, -Werror when
# STAMPEDE_WERROR, sanitizers when STAMPEDE_SANITIZE.  _GNU_SOURCE gives
# POSIX clocks and madvise() under -std=c11.

set(SP_WARNINGS -Wall -Wextra -Wconversion -Wshadow -Wpointer-arith -Wstrict-prototypes
                -Wmissing-prototypes -Wvla -Wformat=2)
if(STAMPEDE_WERROR)
  list(APPEND SP_WARNINGS -Werror)
endif()

if(STAMPEDE_SANITIZE)
  set(SP_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${SP_SAN_FLAGS})
  add_link_options(${SP_SAN_FLAGS})
endif()

function(sp_apply_flags target)
  target_compile_options(${target} PRIVATE ${SP_WARNINGS})
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
endfunction()

# Relaxed flags for test and benchmark code (cmocka's macros trip -Wconversion).
function(sp_apply_test_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wno-unused-parameter)
  if(STAMPEDE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE SP_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                               SP_BINARY_DIR="${PROJECT_BINARY_DIR}")
endfunction()
