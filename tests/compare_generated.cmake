# Fails when a generated file in the tree (docs/reference.md, schemas/*.schema.json)
# differs from the command that generates it; the message says how to regenerate it.
#   cmake -DCLI=... -DARGS="reference" -DFILE=docs/reference.md -P compare_generated.cmake
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${CLI} ${args} OUTPUT_VARIABLE generated RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "infomax ${ARGS} failed (${rc})")
endif()
file(READ ${FILE} current)
if(NOT generated STREQUAL current)
  message(FATAL_ERROR "${FILE} is out of date: run  build/infomax ${ARGS} > ${FILE}")
endif()
