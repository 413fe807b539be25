# Fails when docs/reference.md differs from `infomax reference` (regenerate it with
#   build/infomax reference > docs/reference.md).
execute_process(COMMAND ${CLI} reference OUTPUT_VARIABLE generated RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "infomax reference failed (${rc})")
endif()
file(READ ${DOC} current)
if(NOT generated STREQUAL current)
  message(FATAL_ERROR "docs/reference.md is out of date: run  build/infomax reference > docs/reference.md")
endif()
