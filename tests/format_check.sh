#!/usr/bin/env bash
# Checks every C++ file of the repository against .clang-format: usage: format_check.sh SOURCE_DIR
# Lists the files clang-format would change (`clang-format -i` fixes them) and fails if any. The
# layout is clang-format 14's: other versions break lines differently, so with none but another
# version the check is skipped (exit 77, ctest's SKIP_RETURN_CODE) and says so.
set -uo pipefail
cd "$1"
formatter=$(command -v clang-format-14 || command -v clang-format) || { echo "clang-format is not installed"; exit 1; }
version=$("$formatter" --version)
if [[ ! $version =~ version\ 14\. ]]; then echo "skipped: the layout is clang-format 14's, this is $version"; exit 77; fi
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find bench include src tests -name '*.[ch]pp')
bad=0
for f in "${files[@]}"; do
  if ! "$formatter" --dry-run --Werror "$f" >/dev/null 2>&1; then echo "not formatted: $f"; bad=1; fi
done
echo "checked ${#files[@]} files with $version"
exit $bad
