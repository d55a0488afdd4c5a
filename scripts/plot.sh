#!/usr/bin/env bash
# Draws the pictures (gnuplot and jq from Debian, installed on demand):
#   headroom AGGREGATE.json OUT.png: per formula term of the replica and client pools, the
#     highest share of its bound any pool held (100 % = some seed held the term at its bound)
#     and the share of the seeds running that role and bus that reached it: the formula's
#     headroom over all seeds.
#   occupancy TRACE.json OUT.png: each replica's and standby's pool, messages in use over
#     simulated time, against messages_max (TRACE from sim --trace-out).
#   run OUT.png [sim flags, e.g. --seed=42]: runs the simulation and draws its occupancy.
# Nothing existing is overwritten: OUT.png must not exist.
# Exit: 0 drawn, 1 the simulation (run) failed (the picture is drawn all the same), 2 bad input.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
bad() { echo "plot.sh: $1" >&2; exit 2; }
[[ "${1:-}" == -h || "${1:-}" == --help ]] && { usage; exit 0; }
(($# >= 2)) || bad "usage: plot.sh headroom AGGREGATE.json OUT.png | occupancy TRACE.json OUT.png | run OUT.png [sim flags]"
kind=$1
shift

png_check() {
  [[ "$1" == *.png ]] || bad "$1: the picture's name must end in .png"
  [[ -e "$1" ]] && bad "$1 exists; choose a new name"
  [[ -d "$(dirname "$1")" ]] || bad "$1: directory does not exist"
  return 0
}
input_check() {
  [[ -r "$1" ]] || bad "$1 cannot be read"
  jq -e "$2" "$1" >/dev/null 2>&1 || bad "$1 is not $3"
}

"$root/scripts/setup.sh" gnuplot-nox jq >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

headroom() {
  local aggregate=$1 png=$2
  input_check "$aggregate" '.terms and .seeds and .role_seeds' "a sweep's aggregate.json"
  # "role term ratio share" per term with a bound, replica and client roles (the network has none).
  # The share of seeds counts only the seeds with that role and bus.
  jq -r '.role_seeds as $role_seeds | .terms | to_entries[] | select(.key | test("^(replica|client)"))
    | .key as $role | .value | to_entries[] | select(.value.bound_max > 0)
    | [($role | sub(" "; "/")) + " " + .key,
       (100 * .value.peak_ratio_max),
       (100 * .value.seeds_at_bound / $role_seeds[$role])] | @tsv' "$aggregate" >"$work/terms.tsv"
  [[ -s "$work/terms.tsv" ]] || bad "$aggregate has no replica or client terms"
  local seeds first last
  seeds=$(jq -r .seeds "$aggregate") first=$(jq -r .first_seed "$aggregate") last=$(jq -r .last_seed "$aggregate")
  local count
  count=$(wc -l <"$work/terms.tsv")
  gnuplot <<EOF
set terminal pngcairo size $((400 + 28 * count)),720 font "sans,10" noenhanced
set output "$png"
set datafile separator "\t"
set title "Formula headroom over $seeds seeds ($first..$last): each term's peak against its bound"
set ylabel "% of the term's bound"
set yrange [0:110]
set ytics 0,10,100
set grid ytics
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by 60 right nomirror
set key outside top center horizontal
set arrow from graph 0, first 100 to graph 1, first 100 nohead dt 2 lc rgb "red"
plot "$work/terms.tsv" using 2:xtic(1) title "highest peak / bound of any pool (%)" lc rgb "#3b75af", \
     "" using 3 title "seeds of that role and bus that reached the bound (%)" lc rgb "#ef8636"
EOF
}

occupancy() {
  local trace=$1 png=$2 title=$3
  input_check "$trace" '.traceEvents' "a trace from sim --trace-out"
  # One block per replica and standby: "tick messages_in_use", blocks apart by two blank lines.
  jq -r '
    (.traceEvents | map(select(.ph == "M" and .name == "process_name"
        and (.args.name | test("^(replica|standby)")))) | map({key: (.pid | tostring), value: .args.name})
        | from_entries) as $names
    | [.traceEvents[] | select(.ph == "C" and .name == "pool messages in use"
        and $names[.pid | tostring] != null)] | group_by(.pid)[]
    | ("\"" + $names[.[0].pid | tostring] + "\""), (sort_by(.ts)[] | "\(.ts / 1000) \(.args.value)"), "", ""
    ' "$trace" >"$work/occupancy.dat"
  local messages_max ticks
  messages_max=$(jq -r '[.traceEvents[] | select(.ph == "M" and .name == "process_labels")][0].args.labels
    | sub("messages_max "; "")' "$trace")
  ticks=$(jq -r '[.traceEvents[] | select(.ts != null) | .ts] | max / 1000 | ceil' "$trace")
  [[ -s "$work/occupancy.dat" ]] || bad "$trace holds no replica pool counters"
  local blocks
  blocks=$(grep -c '^"' "$work/occupancy.dat")
  # One panel per replica, stacked on a shared time axis.
  gnuplot <<EOF
set terminal pngcairo size 1400,$((90 + 130 * blocks)) font "sans,9" noenhanced
set output "$png"
set multiplot layout $blocks,1 title "$title" margins 0.06,0.98,0.06,0.94 spacing 0,0.012
set xrange [0:$ticks]
set yrange [0:$messages_max * 1.15]
set ytics 0,5
set grid
set key top left opaque
set format x ""
do for [i=0:$((blocks - 1))] {
  if (i == $((blocks - 1))) { set format x "%g"; set xlabel "simulated time (ticks)" }
  plot "$work/occupancy.dat" index i using 1:2 with steps lw 1 lc rgb "#3b75af" title columnheader(1), \
       $messages_max with lines dt 2 lc rgb "red" title "messages_max $messages_max"
}
unset multiplot
EOF
}

case "$kind" in
  headroom)
    (($# == 2)) || bad "usage: plot.sh headroom AGGREGATE.json OUT.png"
    png_check "$2"
    headroom "$1" "$2"
    echo "plot: $2" ;;
  occupancy)
    (($# == 2)) || bad "usage: plot.sh occupancy TRACE.json OUT.png"
    png_check "$2"
    occupancy "$1" "$2" "Replica pools over simulated time ($(basename "$1"))"
    echo "plot: $2" ;;
  run)
    png=$1
    shift
    png_check "$png"
    status=0
    "$root/scripts/sim.sh" --log=quiet --trace-out="$work/trace.json" "$@" >"$work/sim.txt" || status=$?
    ((status == 2)) && { cat "$work/sim.txt" >&2; exit 2; }
    cat "$work/sim.txt"
    occupancy "$work/trace.json" "$png" "Replica pools over simulated time: $(grep -m1 -E '^(PASS|FAIL)' "$work/sim.txt" | cut -c1-90)"
    echo "plot: $png"
    exit "$status" ;;
  *) bad "unknown picture '$kind' (headroom, occupancy or run)" ;;
esac
