# exo_warnings(target): the project's warning set; errors when EXO_WERROR is on (CI).
function(exo_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual
                                           -Wnull-dereference -Wimplicit-fallthrough)
  if(EXO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
