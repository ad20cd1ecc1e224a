#!/usr/bin/env bash
# Fits convoy's cost model to real interpreters on this machine and writes one server profile
# per interpreter, configs/profiles/<label>.toml, that `convoy-server --config` loads as any
# config. For each CPython picked (scripts/lib/interpreters.sh finds them), it runs
# scripts/reference/calibrate.py under it (CPU time per fib call; instructions and CPython 2
# ticks per fib call and per echoed message), then convoy-server with the candidate knobs until
# the emulated fib call costs the same CPU time as the real one (convoy_data/profile.py says
# what each knob stands for). scripts/fidelity.sh runs every interpreter that has a profile
# against it as well as against the default model.
set -euo pipefail
source "$(dirname "$0")/lib/real.sh"

usage() {
  cat <<USAGE
usage: scripts/calibrate.sh [SELECTOR ...] [options]      (--name value or --name=value)
  SELECTOR          which interpreters, as scripts/reference.sh --interpreters takes them:
                    python, python2, python3, a label or its prefix (python3.11); --list shows
                    what there is. CPython only: PyPy's and Ruby's locks do not count bytecodes
  --interpreter LABEL=PATH   an interpreter by path (repeatable)
  --list            list the interpreters found and exit
  --seconds S       CPU seconds of fib per measurement round (default 2)
  --fib-depth N     fib(N) as the reference servers compute it (default 20)
  --profiles DIR    where the profiles go (default configs/profiles)
  --no-build        use existing binaries
USAGE
}

selectors="" explicit=() list=0 seconds=2 fib_depth=20 profiles="" build=1
split_options "$@"
set -- "${OPTIONS[@]}"
while (($#)); do
  case "$1" in
    --interpreter) need "$@"; explicit+=("$2"); shift 2 ;;
    --list) list=1; shift ;;
    --seconds) need "$@"; seconds=$2; shift 2 ;;
    --fib-depth) need "$@"; fib_depth=$2; shift 2 ;;
    --profiles) need "$@"; profiles=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) unknown_option "$1" ;;
    *) selectors+=" $1"; shift ;;
  esac
done
check_interpreter_choice "$selectors" ${explicit[@]+"${explicit[@]}"}
[[ "$seconds" =~ ^[0-9]+([.][0-9]+)?$ ]] && awk -v s="$seconds" 'BEGIN { exit !(s >= 0.1 && s <= 60) }' ||
  die "--seconds must be a number of seconds in [0.1, 60], not '$seconds'"
check_count --fib-depth "$fib_depth"
((fib_depth >= 2 && fib_depth <= 40)) || die "--fib-depth must be in [2, 40], not $fib_depth"
profiles=${profiles:-$CONVOY_ROOT/configs/profiles}
if [[ -e "$profiles" && ! -d "$profiles" ]]; then die "--profiles '$profiles' is not a directory"; fi
if ((!list)) && [[ -z "${selectors// /}" && ${#explicit[@]} -eq 0 ]]; then
  die "which interpreters? name them (python, python3.11, ...) or --interpreter LABEL=PATH; --list shows them"
fi

if ((list)); then
  find_interpreters "${selectors:-all}" ${explicit[@]+"${explicit[@]}"}
  for i in "${!INTERP_LABEL[@]}"; do
    printf '%-20s %-26s %s\n' "${INTERP_LABEL[$i]}" "${INTERP_VERSION[$i]}" "${INTERP_PATH[$i]}"
  done
  exit 0
fi

if ((build)); then build_release; else find_binaries || die "no binaries found; build them or drop --no-build"; fi
policies_json=$(list_policies "$SERVER_BIN" --json) || die "$SERVER_BIN cannot list its policies"
find_interpreters "$selectors" ${explicit[@]+"${explicit[@]}"}
((${#INTERP_LABEL[@]} > 0)) || die "no interpreter found that '${selectors# }${explicit[*]}' picks"

work=$(mktemp -d "${TMPDIR:-/tmp}/convoy-calibrate.XXXXXX")
remove_work() { rm -rf "$work"; }
on_exit remove_work
printf '%s\n' "$policies_json" >"$work/policies.json"
mkdir -p "$profiles"

written=0
for i in "${!INTERP_LABEL[@]}"; do
  label=${INTERP_LABEL[$i]} exe=${INTERP_PATH[$i]} family=${INTERP_FAMILY[$i]}
  case "$family" in
    "CPython 2" | "CPython 3") ;;
    *) note "$label: $family has no bytecode cost model to fit (CPython only), skipped"; continue ;;
  esac
  policy=$(cdata emulating "$work/policies.json" "$family") || {
    note "$label: no policy emulates $family, skipped"
    continue
  }
  dir="$work/$label"
  mkdir -p "$dir"
  printf '%s: measuring %s ... ' "$label" "$exe"
  if ! run timeout $((${seconds%.*} * 5 * 3 + 60)) "$exe" "$CONVOY_ROOT/scripts/reference/calibrate.py" \
    "$fib_depth" "$seconds" >"$dir/measured.json" 2>"$dir/measured.err"; then
    echo "failed"
    note "$label: calibrate.py failed: $(last_line "$dir/measured.err")"
    continue
  fi
  cdata profile-describe "$dir/measured.json"
  while :; do
    mapfile -t next < <(cdata profile-step "$dir" --policy "$policy" --family "$family")
    ((${#next[@]} > 0)) || die "$label: the fit stopped with an error (see above)"
    [[ "${next[0]}" != done ]] || break
    n=${next[0]#run }
    printf '%s: emulating, round %s: %s ... ' "$label" "$n" "${next[*]:1}"
    if ! run timeout 60 "$SERVER_BIN" --port 0 --cpu-threads 1 --duration "${seconds}s" \
      --log-level warn --stats "$dir/fit-$n.json" "${next[@]:1}" >"$dir/server-$n.out" 2>&1; then
      echo "failed"
      die "$label: convoy-server failed: $(last_line "$dir/server-$n.out")"
    fi
    awk '{ printf "%.1f ns per fib call\n", 1e9 / $1 }' <<<"$(cdata get "$dir/fit-$n.json" fib.calls_per_cpu_s)"
  done
  cdata profile-write "$dir" "$profiles/$label.toml" --label "$label" --path "$exe"
  written=$((written + 1))
done
((written > 0)) || die "no profile written (see above)"
echo "profiles: $profiles (load one with convoy-server --config FILE; scripts/fidelity.sh uses them)"
