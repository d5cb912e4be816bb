# Generates a .cc that embeds the bundled price catalog as a raw string literal.
# Usage: cmake -DINPUT=<catalog.toml> -DOUTPUT=<generated.cc> -P embed_catalog.cmake
# The output is rewritten only when its content changes.
if(NOT INPUT OR NOT OUTPUT)
  message(FATAL_ERROR "embed_catalog.cmake needs -DINPUT=... and -DOUTPUT=...")
endif()
file(READ "${INPUT}" catalog_toml)
set(delimiter "bdgt_catalog")  # at most 16 characters
string(FIND "${catalog_toml}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter ')${delimiter}\"'")
endif()
set(content "// Generated from ${INPUT} by src/pricing/embed_catalog.cmake. Do not edit.
#include <string_view>

#include \"pricing/catalog_file.h\"

namespace budgeteer {

std::string_view EmbeddedCatalogToml() {
  static constexpr std::string_view kCatalog = R\"${delimiter}(${catalog_toml})${delimiter}\";
  return kCatalog;
}

}  // namespace budgeteer
")
file(WRITE "${OUTPUT}.tmp" "${content}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
