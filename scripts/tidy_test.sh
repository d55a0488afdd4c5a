#!/usr/bin/env bash
# Proves that scripts/tidy.sh's rules have teeth. On a copy of the tree in a throwaway git
# repository it plants one violation at a time, expects tidy to exit 1 with that rule's message,
# and reverts. The real tree is only read. Prints "ok: <case>" or "FAIL: <case>" per case;
# exits 1 on any failure.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/tidy_test.sh

Copies the tracked tree (plus untracked files under pool/ sim/ fuzz/ scripts/) to a temporary
git repository and checks that scripts/tidy.sh catches a planted violation of each rule:
folder layering, function length, the assertion floor, and the floor ratchet. Takes no arguments.
EOF
}
if (($# > 0)); then
  case $1 in
    -h | --help) usage && exit 0 ;;
    *) usage >&2 && exit 2 ;;
  esac
fi

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tidy_test.XXXXXX")
trap 'rm -rf "$work"' EXIT
copy=$work/tree
output=$work/output
failures=0

# git in the copy, with an identity of its own (whatever the user's configuration says).
copy_git() {
  git -C "$copy" -c user.name=tidy_test -c user.email=tidy_test@localhost \
    -c commit.gpgsign=false "$@"
}

# The tree as it is on disk: tracked files that exist, and untracked ones under our folders.
copy_tree() {
  mkdir -p "$copy"
  (
    cd "$root"
    { git ls-files -z && git ls-files -z --others --exclude-standard -- pool sim fuzz scripts; } |
      while IFS= read -r -d '' file; do
        [[ -f $file ]] && printf '%s\0' "$file"
      done | xargs -0 -r cp -P --parents -t "$copy"
  )
  copy_git init -q
  copy_git add -A -f
  copy_git commit -q -m "tidy_test: the tree as it is"
}

run_tidy() { # run_tidy: the copy's tidy, its output in $output; returns its exit status
  local status=0
  (cd "$copy" && scripts/tidy.sh) >"$output" 2>&1 || status=$?
  return "$status"
}

revert() {
  copy_git reset -q --hard base
  copy_git clean -q -f -d
}

fail() { # fail <case> <why>
  echo "FAIL: $1 ($2)"
  sed 's/^/    /' "$output" | head -40
  failures=$((failures + 1))
}

# expect_violation <case> <regex>: tidy exits 1 and prints a line matching regex that it did not
# print on the unplanted tree.
expect_violation() {
  local name=$1 regex=$2 status=0
  run_tidy || status=$?
  if ((status != 1)); then
    fail "$name" "tidy exited $status, expected 1"
  elif ! grep -E "$regex" "$output" | grep -qvxF -f "$work/baseline"; then
    fail "$name" "no new line matching: $regex"
  else
    echo "ok: $name"
  fi
}

# expect_no_line <case> <regex>: tidy prints no line matching regex (no false positive).
expect_no_line() {
  local name=$1 regex=$2
  run_tidy || true
  if grep -qE "$regex" "$output"; then
    fail "$name" "unexpected line matching: $regex"
  else
    echo "ok: $name"
  fi
}

# file_in <folder>: an existing file directly in folder, else a new header there.
file_in() {
  local folder=$1 file
  file=$(cd "$copy" && find "$folder" -maxdepth 1 -type f \( -name '*.h' -o -name '*.cc' \) \
    2>/dev/null | sort | head -1)
  if [[ -z $file ]]; then
    file=$folder/tidy_test_planted.h
    mkdir -p "$copy/$folder"
    printf '#pragma once\n' >"$copy/$file"
  fi
  echo "$file"
}

# plant_include <folder> <path>: appends #include "path" to a file in folder; prints file:line.
plant_include() {
  local file
  file=$(file_in "$1")
  printf '#include "%s"\n' "$2" >>"$copy/$file"
  echo "$file:$(wc -l <"$copy/$file")"
}

# long_function <name> <lines> <indent>: a function definition of exactly <lines> lines,
# counted from its signature to its closing brace; a member (indent 2) has a two-line signature.
long_function() {
  local name=$1 lines=$2 indent=$3 pad body i
  pad=$(printf '%*s' "$indent" '')
  if ((indent == 0)); then
    echo "int $name(int x) {"
    body=$((lines - 3))
  else
    echo "${pad}int $name(int x,"
    echo "${pad}    int y) {"
    body=$((lines - 4))
  fi
  for ((i = 0; i < body; i++)); do echo "${pad}  x += $i;"; done
  echo "${pad}  return x;"
  echo "${pad}}"
}

# set_floor <folder> <ratio>: rewrites that folder's line in the copy's floor file.
set_floor() {
  sed -i -E "s|^$1[[:space:]]+[0-9.]+|$1 $2|" "$copy/scripts/assertion_floor.txt"
}

# regex_quoted <text>: an extended regular expression that matches text literally.
# shellcheck disable=SC2001,SC2016 # sed is clearer here; the $ is a character to quote
regex_quoted() { sed 's/[.[\*^$()+?{}|]/\\&/g' <<<"$1"; }

# below_floor <folder> <floor>: the ERE of tidy's message for folder below that floor.
below_floor() {
  local count='[0-9]+' ratio='[0-9]+\.[0-9]+'
  echo "^$(regex_quoted "$1"): $count assertions in $count functions = $ratio per function," \
    "below the floor $(regex_quoted "$2") \(scripts/assertion_floor\.txt\)$"
}

# measured <folder>: the ratio tidy printed for folder on the unplanted tree.
measured() {
  sed -nE "s|^tidy: $1 ([0-9]+\.[0-9]+) assertions per function.*|\1|p" "$work/baseline"
}

check_baseline() {
  if run_tidy; then
    echo "ok: tidy passes on the tree as it is"
  else
    echo "skip: tidy passes on the tree as it is (it fails there today, see the tidy test;" \
      "each case below looks only for lines that tidy did not print before)"
  fi
  cp "$output" "$work/baseline"
}

check_layering() {
  local at
  at=$(plant_include sim/world sim/cluster.h)
  expect_violation "layering: sim/world/ includes the harness" \
    "^$at: layering: sim/world/ may include only .*, not sim/cluster\.h$"
  revert
  at=$(plant_include sim/core sim/vsr/replica.h)
  expect_violation "layering: sim/core/ includes sim/vsr/" \
    "^$at: layering: sim/core/ may include only .*, not sim/vsr/replica\.h$"
  revert
  at=$(plant_include sim sim/cli/summary_json.h)
  expect_violation "layering: the harness includes the tools (sim/cli/)" \
    "^$at: layering: sim/ may include only .*, not sim/cli/summary_json\.h$"
  revert
  at=$(plant_include sim/vsr pool/cli/flags.h)
  expect_violation "layering: the processes include the command-line layer (pool/cli/)" \
    "^$at: layering: only the tools \(sim/cli/\) and tests may include pool/cli/$"
  revert
  plant_include sim/stray sim/core/prng.h >/dev/null
  expect_violation "layering: a folder that is no layer" \
    "^sim/stray/[^:]+:1: layering: sim/stray/ is not a layer"
  revert
  at=$(plant_include sim/vsr sim/core/prng.h)
  expect_no_line "layering: sim/vsr/ may include sim/core/" "^$at:"
  revert
}

check_function_length() {
  local file=sim/core/tidy_test_long.cc
  mkdir -p "$copy/sim/core"
  {
    printf 'namespace sim {\n\n'
    long_function planted_71 71 0 # line 3
    printf '\n'
    long_function planted_70 70 0 # line 75
    printf '\nclass Planted {\n public:\n'
    long_function member_71 71 2 # line 148
    printf '};\n\n}  // namespace sim\n'
  } >"$copy/$file"
  expect_violation "function length: a 71-line function" \
    "^$file:3: function planted_71 is 71 lines \(at most 70\)$"
  expect_violation "function length: a 71-line member with a two-line signature" \
    "^$file:148: function member_71 is 71 lines \(at most 70\)$"
  expect_no_line "function length: a 70-line function passes" "function planted_70 "
  revert
}

# The folder with the highest measured ratio above zero: planting functions must lower it.
folder_to_dilute() {
  sed -nE 's|^tidy: ([^ ]+) ([0-9]+)\.([0-9]+) assertions per function.*|\2\3 \1|p' \
    "$work/baseline" | sort -rn | awk '$1 > 0 { print $2; exit }'
}

check_assertion_floor() {
  local folder ratio i
  folder=$(folder_to_dilute)
  if [[ -z $folder ]]; then
    fail "assertion floor" "no folder with a measured ratio above 0 in tidy's output"
    return 0
  fi
  ratio=$(measured "$folder")
  set_floor "$folder" "$ratio"
  expect_no_line "assertion floor: $folder at its floor $ratio passes" \
    "$(below_floor "$folder" "$ratio")"
  for ((i = 0; i < 40; i++)); do
    printf 'int planted_%d(int x) {\n  x += 1;\n  x *= 2;\n  return x;\n}\n' "$i"
  done >"$copy/$folder/tidy_test_unasserted.cc"
  expect_violation "assertion floor: assertion-free functions push $folder below" \
    "$(below_floor "$folder" "$ratio")"
  revert
  set_floor sim 99.00
  expect_violation "assertion floor: a floor above the measured ratio" \
    "$(below_floor sim 99.00)"
  revert
  set_floor sim/vsr 1.99
  expect_violation "assertion floor: sim/vsr's floor is at least 2.00" \
    "sim/vsr's floor must be at least 2\.00"
  revert
}

# floor_of <folder>: that folder's floor in the copy's floor file, in hundredths.
floor_of() {
  awk -v folder="$1" '
    $1 == folder { split($2, part, "."); print part[1] * 100 + substr(part[2] "00", 1, 2); exit }
  ' "$copy/scripts/assertion_floor.txt"
}

ratio_of() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); } # ratio_of <hundredths>

check_floor_ratchet() {
  local floor high low file='^scripts/assertion_floor\.txt:[0-9]+:' sha='[0-9a-f]+' lowered
  floor=$(floor_of sim/core)
  if [[ -z $floor ]]; then
    fail "ratchet" "sim/core is not in scripts/assertion_floor.txt"
    return 0
  fi
  high=$(ratio_of $((floor + 100)))
  low=$(ratio_of $((floor + 50)))
  set_floor sim/core "$high"
  copy_git commit -q -a -m "tidy_test: raise sim/core's floor"
  set_floor sim/core "$low"
  lowered="$file sim/core's floor $(regex_quoted "$low") is below $(regex_quoted "$high")"
  expect_violation "ratchet: a lowered floor" "$lowered in commit $sha; a floor may rise, never fall$"
  set_floor sim/core "$(ratio_of $((floor + 150)))"
  expect_no_line "ratchet: a raised floor passes" "sim/core's floor .* is below"
  sed -i -E '/^sim\/core[[:space:]]/d' "$copy/scripts/assertion_floor.txt"
  expect_violation "ratchet: a folder removed from the floors" \
    "$file sim/core is gone, but commit $sha gives it the floor $(regex_quoted "$high");"
  revert
}

copy_tree
copy_git tag base
check_baseline
check_layering
check_function_length
check_assertion_floor
check_floor_ratchet

if ((failures > 0)); then
  echo "tidy_test: $failures case(s) failed"
  exit 1
fi
echo "tidy_test: every planted violation caught"
