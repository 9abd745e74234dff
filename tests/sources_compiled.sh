#!/usr/bin/env bash
# Checks that every .cpp under src/ was compiled into the library, so that a new variant's folder
# builds with no CMake edit: usage: sources_compiled.sh SOURCE_DIR OBJECT_DIR OPENBLAS ONEDNN
# [FOREIGN] (OBJECT_DIR: the library's CMakeFiles/attn.dir; OPENBLAS, ONEDNN: ON when that baseline
# is built, otherwise its folder must not be; FOREIGN: the regular expression of the other
# architecture's per-tier files, which must not be).
set -uo pipefail
src=$1 objects=$2 openblas=$3 onednn=$4 foreign=${5:-}
missing=0 count=0
while IFS= read -r file; do
  if [[ -n $foreign && $file =~ $foreign ]]; then
    [[ ! -f $objects/$file.o ]] || { echo "compiled for the wrong architecture: $file"; missing=1; }
    continue
  fi
  case $file in
    src/openblas/*) [[ $openblas == ON ]] || continue ;;
    src/onednn/*) [[ $onednn == ON ]] || continue ;;
  esac
  count=$((count + 1))
  [[ -f $objects/$file.o ]] || { echo "not compiled into the library: $file"; missing=1; }
done < <(cd "$src" && find src -name '*.cpp' | sort)
echo "$count source files of src/ checked"
((count > 0 && missing == 0))
