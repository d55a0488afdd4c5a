#!/usr/bin/env bash
# House rules, checked (a ctest named "tidy"): the bans of style.md, the include layering of
# ../shared/design/architecture.md (the table below), function length, the assertion floors of scripts/assertion_floor.txt, and
# clang-format. Prints every violation as file:line: why; exits 1 on any.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly function_lines_max=70
readonly floor_file=scripts/assertion_floor.txt
readonly vsr_floor_min=200 # The project's rule: sim/vsr asserts at least 2.00 per function.

# The layers of sim/, bottom up (namespace sim throughout): each folder and the prefixes its files
# may #include "…" from our code (pool/, sim/). "sim/*" is a file directly in sim/, the harness,
# not one in a subfolder. A subfolder of a layer belongs to that layer. A test may also include
# anything in its own folder and below it.
readonly layers='
sim/core   pool/ sim/core/
sim/world  pool/ sim/core/ sim/world/
sim/vsr    pool/ sim/core/ sim/world/ sim/vsr/
sim        pool/ sim/core/ sim/world/ sim/vsr/ sim/*
sim/cli    pool/ sim/
'

violations=0
report() { # report <why> <grep -n output lines>
  local why=$1 lines=$2
  [[ -z "$lines" ]] && return 0
  while IFS= read -r line; do
    echo "${line%%:*}:$(cut -d: -f2 <<<"$line"): $why"
    violations=$((violations + 1))
  done <<<"$lines"
}

report_whole() { # report_whole <lines>: lines that are complete violation messages already
  local lines=$1
  [[ -z "$lines" ]] && return 0
  echo "$lines"
  violations=$((violations + $(wc -l <<<"$lines")))
}

sources() { # sources <dir>...: our C++ files under the given directories
  local dir
  for dir in "$@"; do
    [[ -d $dir ]] && find "$dir" -type f \( -name '*.h' -o -name '*.cc' \)
  done | sort
}

# grep_sources <regex> <files...>: matching lines as file:line:text, comments not skipped.
grep_sources() {
  local regex=$1
  shift
  (($# == 0)) && return 0
  grep -nE "$regex" "$@" /dev/null || true
}

mapfile -t checked < <(sources pool sim fuzz)
# Library code: not tests, not benchmarks, not pool's command-line layer.
mapfile -t library < <(sources pool sim | grep -vE '_(test|benchmark)\.cc$' |
  grep -v '^pool/cli/' || true)
# The simulation proper: the library without sim/cli/ (the tools may use clocks and threads).
mapfile -t simulation < <(printf '%s\n' "${library[@]}" | grep -v '^sim/cli/' || true)

check_bans() {
  report "plain assert(: use POOL_ASSERT (always on, prints the seed)" \
    "$(grep_sources '(^|[^_[:alnum:]])assert\(' "${checked[@]}")"
  report "<random>: use sim's PRNG (distributions differ between standard libraries)" \
    "$(grep_sources '#include <random>|std::(mt19937|random_device|uniform_int_distribution)|(^|[^_[:alnum:]])s?rand\(' "${checked[@]}")"
  report "clock: simulated time only (ticks)" \
    "$(grep_sources 'system_clock|steady_clock|high_resolution_clock|gettimeofday|clock_gettime|time\((nullptr|NULL)\)|#include <chrono>' "${simulation[@]}")"
  report "hash container: iteration order varies by process; use vectors or absl::btree_map" \
    "$(grep_sources 'unordered_(map|set)|(flat|node)_hash_(map|set)' "${library[@]}")"
  report "thread: a simulation is single-threaded" \
    "$(grep_sources '#include <thread>|std::(thread|async|jthread)|pthread_create' "${simulation[@]}")"
}

# sim_layering <files...>: every #include "pool/…" or "sim/…" that the file's folder (row of
# $layers) does not allow, and every file in a folder that is not a layer.
sim_layering() {
  (($# == 0)) && return 0
  awk -v layers="$layers" '
    BEGIN {
      rows = split(layers, row, "\n")
      for (r = 1; r <= rows; r++) {
        fields = split(row[r], field, " ")
        if (fields < 2) continue
        allowed[field[1]] = field[2]
        for (f = 3; f <= fields; f++) allowed[field[1]] = allowed[field[1]] " " field[f]
      }
    }
    # The layer of sim/a/b/c.h is sim/a; of sim/c.h, sim.
    function layer_of(file,   part) {
      split(file, part, "/")
      return part[3] == "" ? "sim" : "sim/" part[2]
    }
    function may_include(path,   prefix, n, i) {
      if (is_test && index(path, directory "/") == 1) return 1
      n = split(allowed[layer], prefix, " ")
      for (i = 1; i <= n; i++) {
        if (prefix[i] ~ /\/\*$/) {  # "sim/*": a file directly in that folder
          if (index(path, substr(prefix[i], 1, length(prefix[i]) - 1)) == 1 &&
              substr(path, length(prefix[i])) !~ /\//) return 1
        } else if (index(path, prefix[i]) == 1) return 1
      }
      return 0
    }
    FNR == 1 {
      layer = layer_of(FILENAME)
      is_test = FILENAME ~ /_test\.cc$/
      directory = FILENAME
      sub(/\/[^\/]*$/, "", directory)
      if (!(layer in allowed)) {
        print FILENAME ":1: layering: " layer "/ is not a layer of sim/" \
          " (see the table in scripts/tidy.sh)"
      }
    }
    /^#include "(pool|sim)\// && (layer in allowed) {
      path = $0
      sub(/^#include "/, "", path)
      sub(/".*/, "", path)
      if (!may_include(path)) {
        print FILENAME ":" FNR ": layering: " layer "/ may include only " allowed[layer] \
          ", not " path
      }
    }
  ' "$@"
}

# Layering: pool depends on nothing of ours but itself, and its library on no Abseil or JSON
# (anyone can drop it into a build); pool/cli is the command-line layer; sim's layers follow
# $layers; JSON is for the tools (sim/cli) and tests; sim never sees fuzz.
check_layering() {
  local pool_all pool_library sim_all sim_below_tools
  mapfile -t pool_all < <(sources pool)
  mapfile -t pool_library < <(sources pool | grep -v '^pool/cli/' || true)
  mapfile -t sim_all < <(sources sim)
  mapfile -t sim_below_tools < <(sources sim | grep -vE '_(test|benchmark)\.cc$' |
    grep -v '^sim/cli/' || true)
  report "layering: pool/ must not include sim/ or fuzz/" \
    "$(grep_sources '#include "(sim|fuzz)/' "${pool_all[@]}")"
  report "layering: the pool library must not include Abseil or JSON (pool/cli may)" \
    "$(grep_sources '#include ["<](absl|nlohmann)/' "${pool_library[@]}")"
  report "layering: only the tools (sim/cli/) and tests may include JSON" \
    "$(grep_sources '#include ["<]nlohmann/' "${sim_below_tools[@]}")"
  report "layering: sim/ must not include fuzz/" \
    "$(grep_sources '#include "fuzz/' "${sim_all[@]}")"
  # The command-line layer (flags, subprocesses) is for the tools: sim/cli and tests.
  report "layering: only the tools (sim/cli/) and tests may include pool/cli/" \
    "$(grep_sources '#include "pool/cli/' "${sim_below_tools[@]}")"
  report_whole "$(sim_layering "${sim_all[@]}")"
}

# function_lengths <files...>: "file<tab>line<tab>name<tab>length" per function definition (length
# -1: no end found). A heuristic for clang-formatted code: a signature whose first line is at
# indent 0 or 2, with balanced parentheses, whose last line ends in "{"; not a namespace, class,
# struct, enum, union or extern "C" block, a control statement, an initialiser ("= {") or a lambda
# assigned to a variable. The body ends at the line "}" at the signature's indent (so a function
# try-block's handlers belong to it). Length counts from the signature's first line to that
# closing brace, both inclusive. Nothing starts inside a body: lambdas count toward their function.
function_lengths() {
  (($# == 0)) && return 0
  awk '
    function indent_of(text) { match(text, /^ */); return RLENGTH }
    function count(text, char) { return gsub("[" char "]", "", text) }
    function is_definition(signature,   head) {
      # A call with a lambda argument leaves a "(" open at its "{"; a signature does not.
      if (signature !~ /\(/ || count(signature, "(") != count(signature, ")")) return 0
      if (signature ~ /^ *(template *<[^>]*> *)?(namespace|class|struct|enum|union|extern *"C" *\{)/)
        return 0
      if (signature ~ /^ *(if|else|for|while|do|switch|try|catch|return|case|default|static_assert)([^_[:alnum:]]|$)/)
        return 0
      if (signature ~ /^ *\}/ || signature ~ /= *\{$/ || signature ~ /= *\[/) return 0
      head = substr(signature, 1, index(signature, "(") - 1)
      if (head ~ /=/ && head !~ /operator/) return 0  # an initialiser, or a lambda in a variable
      return 1
    }
    function name_of(signature,   head) {
      if (match(signature, /[~_[:alnum:]:]*operator *(\(\)|[^ (]+)/))
        return substr(signature, RSTART, RLENGTH)
      head = substr(signature, 1, index(signature, "(") - 1)
      sub(/ +$/, "", head)
      match(head, /[~_[:alnum:]:]+$/)
      return substr(head, RSTART, RLENGTH)
    }
    function unclosed() {
      if (in_body)
        print file "\t" start "\t" name "\t" -1
    }
    FNR == 1 { unclosed(); file = FILENAME; in_body = 0; pending = 0; in_macro = 0 }
    {
      line = $0
      sub(/\{ *\/\/.*$/, "{", line)  # a comment after the opening brace
      indent = indent_of(line)
    }
    in_body {
      if (indent == body_indent && substr(line, indent + 1) ~ /^\}( *\/\/.*)?$/) {
        print file "\t" start "\t" name "\t" (FNR - start + 1)
        in_body = 0
      }
      next
    }
    # Preprocessor lines and macro bodies are never signatures.
    in_macro || line ~ /^ *#/ { in_macro = line ~ /\\$/; pending = 0; next }
    pending && indent > body_indent && line !~ /^ *$/ { signature = signature " " line }
    !(pending && indent > body_indent) {
      pending = 0
      if ((indent == 0 || indent == 2) && line !~ /^ *(\/\/|\/\*|\*|$)/) {
        pending = 1; start = FNR; body_indent = indent; signature = line
      }
    }
    pending && line ~ /\{$/ {
      pending = 0
      if (is_definition(signature)) { in_body = 1; name = name_of(signature) }
      next
    }
    pending && line ~ /[;}]$/ { pending = 0 }
    END { unclosed() }
  ' "$@"
}

# Function length: anything longer than a screen is split into named steps (tests excepted).
check_function_length() {
  local file line name length files
  mapfile -t files < <(sources pool sim fuzz | grep -v '_test\.cc$' || true)
  while IFS=$'\t' read -r file line name length; do
    if ((length < 0)); then
      echo "$file:$line: function $name has no closing brace at its indent (tidy lost track)"
      violations=$((violations + 1))
    elif ((length > function_lines_max)); then
      echo "$file:$line: function $name is $length lines (at most $function_lines_max)"
      violations=$((violations + 1))
    fi
  done < <(function_lengths "${files[@]}")
}

# floors_of <file>: "folder hundredths line-number" per entry of an assertion floor file; a
# malformed line is printed as "! line-number text".
floors_of() {
  awk '
    { sub(/#.*/, ""); }
    NF == 0 { next }
    NF != 2 || $2 !~ /^[0-9]+(\.[0-9][0-9]?)?$/ { print "! " NR " " $0; next }
    {
      whole = $2; fraction = "00"
      if (index($2, ".")) {
        whole = substr($2, 1, index($2, ".") - 1)
        fraction = substr($2 "0", index($2, ".") + 1, 2)
      }
      print $1, whole * 100 + fraction, NR
    }
  ' "$1"
}

hundredths() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

# assertion_counts <folder>: "assertions functions" over the folder's own non-test,
# non-benchmark files (not its subfolders); a function counts if it is longer than 3 lines.
assertion_counts() {
  local folder=$1 files assertions functions
  mapfile -t files < <(find "$folder" -maxdepth 1 -type f \( -name '*.h' -o -name '*.cc' \) |
    grep -vE '_(test|benchmark)\.cc$' | sort || true)
  if ((${#files[@]} == 0)); then
    echo "0 0"
    return 0
  fi
  assertions=$(cat "${files[@]}" | grep -oE \
    '(^|[^_[:alnum:]])(POOL_ASSERT(_(EQ|NE|LT|LE|GT|GE))?|static_assert) *\(' | wc -l || true)
  functions=$(function_lengths "${files[@]}" | awk -F'\t' '$NF > 3' | wc -l)
  echo "$assertions $functions"
}

# Assertion floor: each listed folder asserts at least its floor per function, and a floor only
# ever rises (against every committed version of the file).
check_assertion_floors() {
  if [[ ! -f $floor_file ]]; then
    echo "$floor_file:1: missing (the assertion floors per folder)"
    violations=$((violations + 1))
    return 0
  fi
  local folder floor line assertions functions ratio
  declare -A floors=() lines=()
  while read -r folder floor line; do
    if [[ $folder == "!" ]]; then
      echo "$floor_file:$floor: expected FOLDER RATIO (e.g. sim/vsr 2.00), not '$line'"
      violations=$((violations + 1))
      continue
    fi
    if [[ -n ${floors[$folder]:-} ]]; then
      echo "$floor_file:$line: $folder is listed twice"
      violations=$((violations + 1))
    fi
    floors[$folder]=$floor
    lines[$folder]=$line
    if [[ ! -d $folder ]]; then
      echo "$folder: no such folder ($floor_file)"
      violations=$((violations + 1))
      continue
    fi
    read -r assertions functions < <(assertion_counts "$folder")
    ratio=$((assertions * 100 / (functions > 0 ? functions : 1)))
    echo "tidy: $folder $(hundredths "$ratio") assertions per function (floor $(hundredths "$floor"))"
    if ((ratio < floor)); then
      echo "$folder: $assertions assertions in $functions functions = $(hundredths "$ratio")" \
        "per function, below the floor $(hundredths "$floor") ($floor_file)"
      violations=$((violations + 1))
    elif ((ratio - floor >= 25)); then
      echo "tidy: note: $folder is 0.25 or more above its floor:" \
        "raise it to $(hundredths "$ratio") in $floor_file"
    fi
  done < <(floors_of "$floor_file")

  if [[ -z ${floors[sim/vsr]:-} ]] || ((floors[sim/vsr] < vsr_floor_min)); then
    echo "$floor_file:${lines[sim/vsr]:-1}: sim/vsr's floor must be at least $(hundredths $vsr_floor_min)" \
      "(the project's rule)"
    violations=$((violations + 1))
  fi
  check_floor_ratchet floors lines
}

# check_floor_ratchet <floors array> <their lines array> (names): no floor below, and no folder
# missing from, any committed version of the floor file. Silent outside git or without history.
check_floor_ratchet() {
  local -n current=$1 current_line=$2
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
  local commit folder floor
  declare -A highest=() where=() # the highest committed floor per folder, and its commit
  for commit in $(git log --format=%H -- "$floor_file" 2>/dev/null || true); do
    while read -r folder floor _; do
      [[ $folder == "!" ]] && continue
      if [[ -z ${highest[$folder]:-} ]] || ((floor > ${highest[$folder]})); then
        highest[$folder]=$floor
        where[$folder]=${commit:0:12}
      fi
    done < <(git show "$commit:./$floor_file" 2>/dev/null | floors_of /dev/stdin || true)
  done
  for folder in $(printf '%s\n' "${!highest[@]}" | sort); do
    floor=${highest[$folder]}
    if [[ -z ${current[$folder]:-} ]]; then
      echo "$floor_file:1: $folder is gone, but commit ${where[$folder]} gives it the floor" \
        "$(hundredths "$floor"); a floor may rise, never fall"
      violations=$((violations + 1))
    elif ((${current[$folder]} < floor)); then
      echo "$floor_file:${current_line[$folder]}: $folder's floor" \
        "$(hundredths "${current[$folder]}") is below $(hundredths "$floor") in commit" \
        "${where[$folder]}; a floor may rise, never fall"
      violations=$((violations + 1))
    fi
  done
}

# Formatting: .clang-format (Google base, 100 columns) applied everywhere.
check_format() {
  if ! command -v clang-format >/dev/null; then
    echo "tidy: clang-format is not installed (scripts/test.sh installs it)" >&2
    exit 1
  fi
  local warnings file unformatted
  # One clang-format for every file (one per file takes seconds); its warnings name the files.
  warnings=$(clang-format --dry-run --Werror "${checked[@]}" 2>&1 >/dev/null) && return 0
  mapfile -t unformatted < <(sed -nE \
    's/^([^:]+):[0-9]+:[0-9]+: (error|warning): code should be clang-formatted.*/\1/p' \
    <<<"$warnings" | sort -u)
  if ((${#unformatted[@]} == 0)); then # It failed otherwise: find the files it fails on.
    for file in "${checked[@]}"; do
      clang-format --dry-run --Werror "$file" >/dev/null 2>&1 || unformatted+=("$file")
    done
  fi
  for file in "${unformatted[@]}"; do
    echo "$file:1: not clang-formatted (run: clang-format -i $file)"
    violations=$((violations + 1))
  done
}

check_bans
check_layering
check_function_length
check_assertion_floors
check_format

if ((violations > 0)); then
  echo "tidy: $violations violation(s)"
  exit 1
fi
echo "tidy: ${#checked[@]} files clean"
