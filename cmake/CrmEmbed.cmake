# crm_embed_sql(<out.c> <symbol> <files...>): turn SQL migration files into a C
# table { name, text } so binaries carry their migrations (no path lookups
# at run time, same behaviour in a container and in `make run`).
function(crm_embed_sql out symbol)
  set(files ${ARGN})
  # A CMake list would reach the shell as separate commands: join with "|".
  string(REPLACE ";" "|" joined "${files}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSYMBOL=${symbol} "-DFILES=${joined}"
            -P ${PROJECT_SOURCE_DIR}/cmake/CrmEmbedRun.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/CrmEmbedRun.cmake
    COMMENT "embedding SQL into ${symbol}"
    VERBATIM)
endfunction()
